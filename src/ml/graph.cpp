#include "ml/graph.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung::graph {
namespace {

constexpr double kTolerance2 = 1e-8;    // pymatgen find_points_in_spheres: d^2 < r^2 + 1e-8
constexpr double kSelfDistance = 1e-8;  // the trivial self pair (j == i, n == 0)

struct Cell {
  Eigen::Matrix3d lattice;  // rows, Angstrom
  std::vector<Eigen::Vector3d> frac;  // wrapped into [0,1)
  std::vector<Eigen::Vector3d> cart;  // Angstrom
  Eigen::Vector3d spacing;            // inter-planar spacings h_k (Angstrom)
};

Cell prepare(const Structure& s) {
  Cell c;
  c.lattice = units::Bohr_to_Ang(1.0) * s.lattice;
  const double volume = std::abs(c.lattice.determinant());
  for (int k = 0; k < 3; ++k) {
    const Eigen::Vector3d a = c.lattice.row((k + 1) % 3), b = c.lattice.row((k + 2) % 3);
    c.spacing[k] = volume / a.cross(b).norm();
  }
  c.frac.reserve(s.size());
  c.cart.reserve(s.size());
  for (const auto& f0 : s.frac) {
    Eigen::Vector3d f = f0;
    for (int k = 0; k < 3; ++k) {
      f[k] -= std::floor(f[k]);
      if (f[k] >= 1.0) f[k] = 0.0;  // -1e-17 wraps to 1.0 in floating point
    }
    c.frac.push_back(f);
    c.cart.push_back(c.lattice.transpose() * f);
  }
  return c;
}

inline bool keep(int i, int j, double d2, double cutoff2) {
  if (!(d2 < cutoff2 + kTolerance2)) return false;
  return !(i == j && d2 <= kSelfDistance * kSelfDistance);
}

inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

int group_index(int z) {
  if (z < 1 || z > max_supported_z || !elements::is_main_group(z)) return -1;
  int g = elements::group(z) - 1;
  if (g > 1) g -= 10;  // groups 13..18 -> 2..7
  return g;
}

int row_index(int z) {
  if (group_index(z) < 0) return -1;
  return elements::period(z) - 1;
}

bool supported_element(int z) { return group_index(z) >= 0; }

void check_supported_elements(const Structure& s, const std::string& origin) {
  for (std::size_t i = 0; i < s.numbers.size(); ++i) {
    const int z = s.numbers[i];
    if (!supported_element(z))
      fail_input(origin, fmt::format("atom {} is {}: the OPTIMATE model encodes only the main-group elements H..Xe "
                                     "(groups 1, 2, 13-18, periods 1-5)",
                                     i + 1, z >= 1 && z <= elements::max_z ? elements::symbol(z) : std::to_string(z)));
  }
}

void validate_for_model(const Structure& s, const std::string& origin) {
  s.validate(origin);
  check_supported_elements(s, origin);
}

std::vector<Neighbor> neighbor_list(const Structure& s, double cutoff) {
  const Cell c = prepare(s);
  const int n = int(s.size());
  const double cutoff2 = cutoff * cutoff;
  // Bins: nb_k slabs along each lattice direction, each at least `cutoff` thick (or the whole cell).
  std::array<int, 3> nb{}, reach{};
  for (int k = 0; k < 3; ++k) {
    nb[k] = std::max(1, int(std::floor(c.spacing[k] / cutoff)));
    nb[k] = std::min(nb[k], std::max(1, n));  // never more bins than atoms per direction
    // Neighbours within the cut-off lie at most ceil(cutoff / slab thickness) slabs away.
    reach[k] = int(std::ceil((cutoff + 1e-6) * nb[k] / c.spacing[k]));
  }
  auto bin_of = [&](const Eigen::Vector3d& f) {
    std::array<int, 3> b{};
    for (int k = 0; k < 3; ++k) b[k] = std::min(nb[k] - 1, int(f[k] * nb[k]));
    return b;
  };
  const int nbins = nb[0] * nb[1] * nb[2];
  std::vector<int> head(nbins, -1), next(n, -1);
  std::vector<std::array<int, 3>> bins(n);
  for (int i = n - 1; i >= 0; --i) {
    bins[i] = bin_of(c.frac[i]);
    const int id = (bins[i][0] * nb[1] + bins[i][1]) * nb[2] + bins[i][2];
    next[i] = head[id];
    head[id] = i;
  }
  std::vector<Neighbor> out;
  out.reserve(std::size_t(n) * 32);
  const Eigen::Matrix3d Lt = c.lattice.transpose();
  for (int i = 0; i < n; ++i) {
    const auto& bi = bins[i];
    for (int dx = -reach[0]; dx <= reach[0]; ++dx) {
      const int Bx = bi[0] + dx, nx = floor_div(Bx, nb[0]), bx = Bx - nx * nb[0];
      for (int dy = -reach[1]; dy <= reach[1]; ++dy) {
        const int By = bi[1] + dy, ny = floor_div(By, nb[1]), by = By - ny * nb[1];
        for (int dz = -reach[2]; dz <= reach[2]; ++dz) {
          const int Bz = bi[2] + dz, nz = floor_div(Bz, nb[2]), bz = Bz - nz * nb[2];
          const Eigen::Vector3d shift = Lt * Eigen::Vector3d(nx, ny, nz) - c.cart[i];
          for (int j = head[(bx * nb[1] + by) * nb[2] + bz]; j >= 0; j = next[j]) {
            const Eigen::Vector3d d = c.cart[j] + shift;
            const double d2 = d.squaredNorm();
            if (keep(i, j, d2, cutoff2)) out.push_back({i, j, {nx, ny, nz}, std::sqrt(d2)});
          }
        }
      }
    }
  }
  return out;
}

std::vector<Neighbor> neighbor_list_brute_force(const Structure& s, double cutoff) {
  const Cell c = prepare(s);
  const int n = int(s.size());
  std::array<int, 3> range{};
  // Enough images for every neighbour within the cut-off, whatever the cell's shape (doc/ml-model.md, Graph).
  for (int k = 0; k < 3; ++k) range[k] = int(std::ceil(cutoff / c.spacing[k])) + 1;
  std::vector<Neighbor> out;
  const Eigen::Matrix3d Lt = c.lattice.transpose();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int a = -range[0]; a <= range[0]; ++a)
        for (int b = -range[1]; b <= range[1]; ++b)
          for (int e = -range[2]; e <= range[2]; ++e) {
            const Eigen::Vector3d d = c.cart[j] + Lt * Eigen::Vector3d(a, b, e) - c.cart[i];
            const double d2 = d.squaredNorm();
            if (keep(i, j, d2, cutoff * cutoff)) out.push_back({i, j, {a, b, e}, std::sqrt(d2)});
          }
  return out;
}

void gaussian_expansion(double distance, float* out) {
  static const double prefactor = std::sqrt(10.0 / units::pi);
  for (int k = 0; k < num_edge_features; ++k) {
    const double x = distance - 0.1 * k;
    out[k] = float(prefactor * std::exp(-10.0 * x * x));
  }
}

CrystalGraph build_crystal_graph(const Structure& s, const std::string& origin) {
  check_supported_elements(s, origin);
  CrystalGraph g;
  g.id = s.id;
  g.num_nodes = std::int64_t(s.size());
  g.node_features.assign(std::size_t(g.num_nodes) * num_node_features, 0.0f);
  for (std::size_t i = 0; i < s.size(); ++i) {
    g.node_features[i * num_node_features + group_index(s.numbers[i])] = 1.0f;
    g.node_features[i * num_node_features + num_group_classes + row_index(s.numbers[i])] = 1.0f;
  }
  const auto neighbors = neighbor_list(s);
  // Every atom needs an edge into it (the pairs are symmetric: a neighbour), else the model cannot see it.
  std::vector<char> has_neighbor(s.size(), 0);
  for (const auto& n : neighbors) has_neighbor[std::size_t(n.neighbor)] = 1;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!has_neighbor[i])
      fail_input(origin, fmt::format("atom {} ({}) has no neighbour within the model's {:g} Angstrom cut-off: the "
                                     "network (no self loops) would not see its element",
                                     i + 1, elements::symbol(s.numbers[i]), cutoff_angstrom));
  g.edge_src.reserve(neighbors.size());
  g.edge_dst.reserve(neighbors.size());
  g.edge_features.resize(neighbors.size() * num_edge_features);
  for (std::size_t e = 0; e < neighbors.size(); ++e) {
    g.edge_src.push_back(neighbors[e].center);
    g.edge_dst.push_back(neighbors[e].neighbor);
    gaussian_expansion(neighbors[e].distance, &g.edge_features[e * num_edge_features]);
  }
  return g;
}

}  // namespace rung::graph
