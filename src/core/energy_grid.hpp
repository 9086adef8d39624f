#pragma once
// A uniform frequency grid in eV, the way spectra are exchanged (rung's default is the paper's:
// 2001 points from 0 to 20 eV, i.e. 10 meV steps; core/paper.hpp).
#include "core/paper.hpp"

#include <cmath>
#include <complex>
#include <cstddef>
#include <vector>

namespace rung {

struct EnergyGrid {
  double emin_eV = paper::emin_eV;
  double emax_eV = paper::emax_eV;
  std::size_t steps = paper::steps;

  static EnergyGrid paper_default() { return {paper::emin_eV, paper::emax_eV, paper::steps}; }
  double step_eV() const { return steps > 1 ? (emax_eV - emin_eV) / double(steps - 1) : 0.0; }
  double operator[](std::size_t i) const { return emin_eV + double(i) * step_eV(); }
  std::size_t size() const { return steps; }
  std::vector<double> values_eV() const;
  std::vector<double> values_Ha() const;
  // Throws a usage error when steps < 2 or emax <= emin.
  void validate() const;
  // The same number of points and the same ends, to within tol_eV.
  bool same_as(const EnergyGrid& o, double tol_eV) const {
    return steps == o.steps && !(std::abs(emin_eV - o.emin_eV) > tol_eV) && !(std::abs(emax_eV - o.emax_eV) > tol_eV);
  }

  // Every `stride`-th point from emin on, continued past emax until it is covered (the last point may lie up to
  // stride - 1 steps beyond emax): a coarser grid whose cubic interpolation (interpolate_subgrid) gives back
  // values on this one. stride 1: the grid itself.
  EnergyGrid subgrid(std::size_t stride) const;
};

// Local cubic (four-point Lagrange) interpolation of `coarse`, sampled on grid.subgrid(stride), to every point of
// `grid`: exact at the shared points; between them the error is at most 3 h^4 |f4| / 128 inside and h^4 |f4| / 24
// in the one-sided end intervals (h = stride * step, f4 the fourth derivative). For a Lorentzian of half-width
// eta sampled at h <= eta / 6 the inside error is below 4.4e-4 of its peak (doc/solver.md, "Solver frequencies"). Needs at
// least 4 coarse points (stride 1: a copy).
std::vector<std::complex<double>> interpolate_subgrid(const EnergyGrid& grid, std::size_t stride,
                                                      const std::vector<std::complex<double>>& coarse);

}  // namespace rung
