#include "core/structure.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <numeric>

namespace rung {

double Structure::volume() const { return std::abs(lattice.determinant()); }

Eigen::Matrix3d Structure::reciprocal() const {
  // B = 2π (A^{-1})^T with vectors as rows.
  return units::two_pi * lattice.inverse().transpose();
}

Eigen::Vector3d Structure::cartesian(std::size_t i) const { return lattice.transpose() * frac.at(i); }

std::string Structure::formula() const {
  std::map<int, int> count;
  for (int z : numbers) ++count[z];
  int g = 0;
  for (auto& [z, n] : count) g = std::gcd(g, n);
  // Order: cations before anions, approximated by group then period (Ga As, Na Cl, Si O2).
  std::vector<int> zs;
  for (auto& [z, n] : count) zs.push_back(z);
  std::sort(zs.begin(), zs.end(), [](int a, int b) {
    const int ga = elements::group(a), gb = elements::group(b);
    const bool ha = a == 1, hb = b == 1;
    if (ha != hb) return !ha;  // hydrogen last (NH3-like orderings are ambiguous; keep it simple)
    return ga != gb ? ga < gb : a < b;
  });
  std::string out;
  for (int z : zs) {
    out += elements::symbol(z);
    const int n = count[z] / std::max(g, 1);
    if (n != 1) out += std::to_string(n);
  }
  return out;
}

void Structure::validate(const std::string& origin, double min_distance_bohr) const {
  if (numbers.empty()) fail_input(origin, "structure has no atoms");
  if (frac.size() != numbers.size())
    fail_input(origin, fmt::format("{} positions but {} species", frac.size(), numbers.size()));
  if (!lattice.allFinite()) fail_input(origin, "lattice contains NaN or Inf");
  const double vol = volume();
  double scale = 1.0;
  for (int i = 0; i < 3; ++i) scale *= std::max(lattice.row(i).norm(), 1e-300);
  if (!(vol > 1e-6 * scale) || vol < 1e-3)
    fail_input(origin, fmt::format("cell is degenerate or non-periodic (volume {:.3g} bohr^3)", vol));
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] < 1 || numbers[i] > elements::max_z)
      fail_input(origin, fmt::format("atom {} has unknown atomic number {}", i + 1, numbers[i]));
    if (!frac[i].allFinite()) fail_input(origin, fmt::format("atom {} has a non-finite position", i + 1));
  }
  // Overlapping atoms: minimum-image search over neighbouring cells (small cells: +-2 images).
  const Eigen::Matrix3d At = lattice.transpose();
  for (std::size_t i = 0; i < numbers.size(); ++i)
    for (std::size_t j = i; j < numbers.size(); ++j) {
      Eigen::Vector3d d = frac[j] - frac[i];
      for (int k = 0; k < 3; ++k) d[k] -= std::round(d[k]);
      for (int a = -2; a <= 2; ++a)
        for (int b = -2; b <= 2; ++b)
          for (int c = -2; c <= 2; ++c) {
            if (i == j && a == 0 && b == 0 && c == 0) continue;
            const double r = (At * (d + Eigen::Vector3d(a, b, c))).norm();
            if (r < min_distance_bohr)
              fail_input(origin, fmt::format("atoms {} ({}) and {} ({}) overlap: {:.3f} Angstrom apart", i + 1,
                                             elements::symbol(numbers[i]), j + 1, elements::symbol(numbers[j]),
                                             units::Bohr_to_Ang(r)));
          }
    }
}

}  // namespace rung
