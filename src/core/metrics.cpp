#include "core/metrics.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rung {

double trapezoid(const std::vector<double>& x, const std::vector<double>& f) {
  if (x.size() != f.size()) fail(fmt::format("trapezoid: {} abscissae but {} values", x.size(), f.size()));
  double s = 0.0;
  for (std::size_t i = 1; i < x.size(); ++i) s += 0.5 * (x[i] - x[i - 1]) * (f[i] + f[i - 1]);
  return s;
}

SpectralDistance spectral_distance(const std::vector<double>& omega, const std::vector<double>& x,
                                   const std::vector<double>& y) {
  if (omega.size() < 2 || x.size() != omega.size() || y.size() != omega.size())
    fail(fmt::format("spectral_distance: grid of {} points, spectra of {} and {}", omega.size(), x.size(), y.size()));
  std::vector<double> ad(omega.size()), sq(omega.size()), ay(omega.size());
  for (std::size_t i = 0; i < omega.size(); ++i) {
    const double d = x[i] - y[i];
    ad[i] = std::abs(d);
    sq[i] = d * d;
    ay[i] = std::abs(y[i]);
  }
  const double width = omega.back() - omega.front();
  if (!(width > 0))
    fail(fmt::format("spectral_distance: the grid runs from {} to {} (it must increase)", omega.front(), omega.back()));
  const double iy = trapezoid(omega, ay);
  SpectralDistance r;
  const double iad = trapezoid(omega, ad);
  // (a NaN anywhere stays a NaN: a reference of NaNs is no reference with zero area)
  r.sc = std::isnan(iy) || std::isnan(iad) ? std::nan("") : iy > 0 ? 1.0 - iad / iy : (iad == 0 ? 1.0 : -INFINITY);
  // The paper divides by ω_max on a grid starting at 0; for other grids the width is the consistent choice.
  r.mse = trapezoid(omega, sq) / width;
  r.mae = iad / width;
  return r;
}

double similarity_coefficient(const std::vector<double>& omega, const std::vector<double>& x,
                              const std::vector<double>& y) {
  return spectral_distance(omega, x, y).sc;
}

std::vector<double> interpolate_linear(const std::vector<double>& xs, const std::vector<double>& ys,
                                       const std::vector<double>& grid, bool extrapolate_constant) {
  if (xs.size() != ys.size() || xs.empty()) fail("interpolate_linear: bad input sizes");
  std::vector<double> out(grid.size(), 0.0);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const double g = grid[i];
    if (g < xs.front() || g > xs.back()) {
      if (extrapolate_constant) out[i] = g < xs.front() ? ys.front() : ys.back();
      continue;
    }
    auto it = std::upper_bound(xs.begin(), xs.end(), g);
    if (it == xs.end()) {
      out[i] = ys.back();
      continue;
    }
    const std::size_t j = std::size_t(it - xs.begin());
    if (j == 0) {
      out[i] = ys.front();
      continue;
    }
    const double t = (g - xs[j - 1]) / (xs[j] - xs[j - 1]);
    out[i] = (1 - t) * ys[j - 1] + t * ys[j];
  }
  return out;
}

SpectralDistance compare_on_common_grid(const std::vector<double>& x_omega, const std::vector<double>& x,
                                        const std::vector<double>& y_omega, const std::vector<double>& y) {
  if (x_omega.empty() || y_omega.empty()) fail("compare: empty spectrum");
  const double lo = std::max(x_omega.front(), y_omega.front());
  const double hi = std::min(x_omega.back(), y_omega.back());
  std::vector<double> grid;
  for (double w : y_omega)
    if (w >= lo - 1e-12 && w <= hi + 1e-12) grid.push_back(w);
  if (grid.size() < 2) fail(fmt::format("compare: the spectra share no energy range ({}..{} eV)", lo, hi));
  // Clamp the end points so that rounding in the two grids cannot drop them.
  auto xi = interpolate_linear(x_omega, x, grid, true);
  auto yi = interpolate_linear(y_omega, y, grid, true);
  return spectral_distance(grid, xi, yi);
}

double quantile(std::vector<double> v, double q) {
  if (!(q >= 0 && q <= 1)) fail(fmt::format("quantile: q = {} lies outside [0, 1]", q));
  // (a NaN has no place in an order: sorting with one is undefined, and the answer would hide it)
  if (v.empty() || std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); })) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const std::size_t lo = std::size_t(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

}  // namespace rung
