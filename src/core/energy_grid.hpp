#pragma once
// A uniform frequency grid in eV, the way spectra are exchanged (rung's default is the paper's:
// 2001 points from 0 to 20 eV, i.e. 10 meV steps; core/paper.hpp).
#include "core/paper.hpp"

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
};

}  // namespace rung
