#pragma once
// Spectral similarity metrics, exactly as the seed paper defines them (trapezoid rule on the grid):
//   SC  = 1 - ∫|X-Y| dω / ∫|Y| dω     (Y is the reference)
//   MSE = ∫|X-Y|² dω / ω_max,  MAE = ∫|X-Y| dω / ω_max
// on the paper's grid, which starts at 0; on a grid from ω_min (a shared range that `rung validate` compares) the
// divisor is the width ω_max − ω_min, so MSE and MAE stay means over the compared range. On the uniform 0..20 eV
// grid they equal the per-point means up to the end-point halves.
#include <vector>

namespace rung {

struct SpectralDistance {
  double sc = 0.0;
  double mse = 0.0;
  double mae = 0.0;
};

// Trapezoid integral of f over the abscissae x (same length, >= 2 points).
double trapezoid(const std::vector<double>& x, const std::vector<double>& f);

// Metrics of `x` against the reference `y`, both sampled on the same grid `omega` (eV).
SpectralDistance spectral_distance(const std::vector<double>& omega, const std::vector<double>& x,
                                   const std::vector<double>& y);
double similarity_coefficient(const std::vector<double>& omega, const std::vector<double>& x,
                              const std::vector<double>& y);

// The q-quantile (0 <= q <= 1) of a set of values, linear between order statistics (numpy's default);
// NaN for an empty set or one with a NaN; q outside [0, 1] is an error. Medians of a metric over materials are
// quantile(values, 0.5).
double quantile(std::vector<double> values, double q);

// Linear interpolation of (xs, ys) onto `grid`; outside [xs.front(), xs.back()] the result is 0
// unless `extrapolate_constant` (then the end values).
std::vector<double> interpolate_linear(const std::vector<double>& xs, const std::vector<double>& ys,
                                       const std::vector<double>& grid, bool extrapolate_constant = false);

// Compare two spectra given on different grids: both are interpolated onto the reference's grid,
// restricted to the energy range the two share.
SpectralDistance compare_on_common_grid(const std::vector<double>& x_omega, const std::vector<double>& x,
                                        const std::vector<double>& y_omega, const std::vector<double>& y);

}  // namespace rung
