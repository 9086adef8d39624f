#include "core/brillouin_zone.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace rung::bz {

Eigen::Matrix3i k_rotation(const Eigen::Matrix3i& m) {
  // inverse = adj(M)/det; (M^{-1})^T = cof(M)/det.
  Eigen::Matrix3i cof;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
      cof(i, j) = m(i1, j1) * m(i2, j2) - m(i1, j2) * m(i2, j1);
    }
  const int det = m.row(0).dot(cof.row(0));
  if (det == 1) return cof;
  if (det == -1) return -cof;
  // Not unimodular: return the rounded real inverse-transpose (callers validate their inputs).
  const Eigen::Matrix3d inv_t = m.cast<double>().inverse().transpose();
  return inv_t.array().round().cast<int>().matrix();
}

Eigen::Vector3d reduce01(const Eigen::Vector3d& k, double tol) {
  Eigen::Vector3d r;
  for (int i = 0; i < 3; ++i) {
    double x = k[i] - std::floor(k[i]);
    if (x >= 1.0 - tol || x < 0) x = 0.0;  // x<0 only for -0.0 rounding; 1-eps folds to 0
    if (std::abs(x) < tol) x = 0.0;
    r[i] = x;
  }
  return r;
}

namespace {
// Equality modulo reciprocal lattice vectors.
bool same_mod_g(const Eigen::Vector3d& a, const Eigen::Vector3d& b, double tol) {
  for (int i = 0; i < 3; ++i) {
    const double d = a[i] - b[i];
    if (std::abs(d - std::round(d)) > tol) return false;
  }
  return true;
}

// Key of a reduced point on a coarse lattice (for a hash set across stars).
std::tuple<long long, long long, long long> key_of(const Eigen::Vector3d& k, double tol) {
  auto q = [&](double x) {
    long long v = std::llround(x / tol);
    const long long period = std::llround(1.0 / tol);
    v %= period;
    if (v < 0) v += period;
    return v;
  };
  return {q(k[0]), q(k[1]), q(k[2])};
}
}  // namespace

std::vector<FullZonePoint> unfold(const std::vector<Eigen::Vector3d>& k_ibz,
                                  const std::vector<Eigen::Matrix3i>& rotations, bool time_reversal,
                                  double tol, bool merge_across_stars) {
  std::vector<FullZonePoint> out;
  out.reserve(k_ibz.size() * rotations.size() * (time_reversal ? 2 : 1));
  // Only for merge_across_stars: quantised keys of every accepted point (neighbouring cells are
  // probed too, so two points within `tol` of each other always meet).
  const double cell = std::max(4 * tol, 1e-9);
  std::map<std::tuple<long long, long long, long long>, std::vector<std::size_t>> seen;
  auto found_elsewhere = [&](const Eigen::Vector3d& k) {
    const auto [a, b, c] = key_of(k, cell);
    const long long period = std::llround(1.0 / cell);
    for (long long da = -1; da <= 1; ++da)
      for (long long db = -1; db <= 1; ++db)
        for (long long dc = -1; dc <= 1; ++dc) {
          auto w = [&](long long v) { return ((v % period) + period) % period; };
          auto it = seen.find({w(a + da), w(b + db), w(c + dc)});
          if (it == seen.end()) continue;
          for (std::size_t i : it->second)
            if (same_mod_g(out[i].k, k, tol)) return true;
        }
    return false;
  };
  std::vector<FullZonePoint> star;
  for (std::size_t ik = 0; ik < k_ibz.size(); ++ik) {
    star.clear();
    for (int sign : {1, -1}) {
      if (sign == -1 && !time_reversal) break;
      for (std::size_t is = 0; is < rotations.size(); ++is) {
        const Eigen::Vector3d kr = reduce01(double(sign) * (rotations[is].cast<double>() * k_ibz[ik]), tol);
        const bool dup = std::any_of(star.begin(), star.end(), [&](const FullZonePoint& p) { return same_mod_g(p.k, kr, tol); });
        if (dup) continue;
        if (merge_across_stars && found_elsewhere(kr)) continue;
        star.push_back({kr, int(ik), int(is), sign});
      }
    }
    for (auto& p : star) {
      if (merge_across_stars) seen[key_of(p.k, cell)].push_back(out.size());
      out.push_back(p);
    }
  }
  return out;
}

std::vector<Eigen::Vector3d> mp_grid_points(const GridInfo& g) {
  std::vector<Eigen::Vector3d> pts;
  pts.reserve(std::size_t(g.n[0]) * g.n[1] * g.n[2]);
  for (int i = 0; i < g.n[0]; ++i)
    for (int j = 0; j < g.n[1]; ++j)
      for (int k = 0; k < g.n[2]; ++k)
        pts.push_back(reduce01(Eigen::Vector3d((i + 0.5 * g.shift[0]) / g.n[0], (j + 0.5 * g.shift[1]) / g.n[1],
                                               (k + 0.5 * g.shift[2]) / g.n[2])));
  return pts;
}

std::optional<UniformGrid> detect_uniform_grid(const std::vector<Eigen::Vector3d>& k_crystal, double tol, int max_n) {
  if (k_crystal.empty()) return std::nullopt;
  UniformGrid g;
  const Eigen::Vector3d& k0 = k_crystal.front();
  // Per direction: the smallest n with every (k − k0)·n an integer.
  for (int d = 0; d < 3; ++d) {
    for (int n = 1; n <= max_n && g.n[d] == 0; ++n) {
      bool all = true;
      for (const auto& k : k_crystal) {
        const double x = (k[d] - k0[d]) * n;
        if (std::abs(x - std::round(x)) > tol * n) {
          all = false;
          break;
        }
      }
      if (all) g.n[d] = n;
    }
    if (g.n[d] == 0) return std::nullopt;
    double o = k0[d] * g.n[d];
    o -= std::floor(o);
    if (o > 1 - tol * g.n[d]) o = 0;
    g.offset[d] = o;
  }
  const std::size_t total = std::size_t(g.n[0]) * g.n[1] * g.n[2];
  if (total != k_crystal.size()) return std::nullopt;
  std::vector<char> hit(total, 0);
  for (const auto& k : k_crystal) {
    std::size_t idx = 0;
    for (int d = 0; d < 3; ++d) {
      long long i = std::llround((k[d] - k0[d]) * g.n[d]) % g.n[d];
      if (i < 0) i += g.n[d];
      idx = idx * std::size_t(g.n[d]) + std::size_t(i);
    }
    if (hit[idx]) return std::nullopt;
    hit[idx] = 1;
  }
  return g;
}

std::optional<GridInfo> detect_mp_grid(const std::vector<Eigen::Vector3d>& k_crystal, double tol, int max_n) {
  // A Monkhorst-Pack grid is a uniform grid whose offsets are 0 or 1/2 of a step.
  const auto u = detect_uniform_grid(k_crystal, tol, max_n);
  if (!u) return std::nullopt;
  GridInfo g;
  for (int d = 0; d < 3; ++d) {
    g.n[d] = u->n[d];
    const double o = u->offset[d], t = tol * u->n[d];
    if (std::abs(o) <= t || std::abs(o - 1) <= t) g.shift[d] = 0;
    else if (std::abs(o - 0.5) <= t) g.shift[d] = 1;
    else return std::nullopt;
  }
  return g;
}

Eigen::Vector3d to_crystal(const Eigen::Vector3d& k_cart, const Eigen::Matrix3d& reciprocal) {
  // k_cart = B^T κ  ->  κ = B^{-T} k_cart
  return reciprocal.transpose().partialPivLu().solve(k_cart);
}

Eigen::Vector3d to_cartesian(const Eigen::Vector3d& k_crystal, const Eigen::Matrix3d& reciprocal) {
  return reciprocal.transpose() * k_crystal;
}

}  // namespace rung::bz
