#include "core/energy_grid.hpp"

#include "core/error.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rung {

std::vector<double> EnergyGrid::values_eV() const {
  std::vector<double> v(steps);
  for (std::size_t i = 0; i < steps; ++i) v[i] = (*this)[i];
  return v;
}

std::vector<double> EnergyGrid::values_Ha() const {
  auto v = values_eV();
  for (auto& x : v) x = units::eV_to_Ha(x);
  return v;
}

void EnergyGrid::validate() const {
  if (steps < 2) fail_usage(fmt::format("energy grid needs at least 2 points (got {})", steps));
  if (!std::isfinite(emin_eV) || !std::isfinite(emax_eV))
    fail_usage(fmt::format("energy grid: emin ({}) and emax ({}) must be finite", emin_eV, emax_eV));
  if (!(emax_eV > emin_eV)) fail_usage(fmt::format("energy grid: emax ({}) must exceed emin ({})", emax_eV, emin_eV));
}

EnergyGrid EnergyGrid::subgrid(std::size_t stride) const {
  if (stride <= 1) return *this;
  const std::size_t n = (steps - 1 + stride - 1) / stride + 1;  // ceil((steps - 1) / stride) + 1
  return EnergyGrid{emin_eV, emin_eV + double(n - 1) * double(stride) * step_eV(), n};
}

std::vector<std::complex<double>> interpolate_subgrid(const EnergyGrid& grid, std::size_t stride,
                                                      const std::vector<std::complex<double>>& coarse) {
  if (stride <= 1) {
    if (coarse.size() != grid.steps)
      fail(fmt::format("interpolate_subgrid: {} values for a grid of {} points", coarse.size(), grid.steps));
    return coarse;
  }
  const std::size_t nc = grid.subgrid(stride).steps;
  if (coarse.size() != nc)
    fail(fmt::format("interpolate_subgrid: {} values for a subgrid of {} points", coarse.size(), nc));
  if (nc < 4) fail(fmt::format("interpolate_subgrid: {} coarse points; a cubic needs 4", nc));
  std::vector<std::complex<double>> out(grid.steps);
  for (std::size_t i = 0; i < grid.steps; ++i) {
    const std::size_t j = i / stride, r = i % stride;
    if (r == 0) {
      out[i] = coarse[j];
      continue;
    }
    // stencil j-1 .. j+2 around the interval [j, j+1], shifted inwards at the ends
    const std::size_t a = std::min(j == 0 ? std::size_t{0} : j - 1, nc - 4);
    const double t = double(j - a) + double(r) / double(stride);  // in coarse steps from point a
    std::complex<double> v = 0;
    for (std::size_t m = 0; m < 4; ++m) {
      double w = 1;
      for (std::size_t l = 0; l < 4; ++l)
        if (l != m) w *= (t - double(l)) / (double(m) - double(l));
      v += w * coarse[a + m];
    }
    out[i] = v;
  }
  return out;
}

}  // namespace rung
