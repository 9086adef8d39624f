#include "core/energy_grid.hpp"

#include "core/error.hpp"
#include "core/units.hpp"

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
  if (!(emax_eV > emin_eV)) fail_usage(fmt::format("energy grid: emax ({}) must exceed emin ({})", emax_eV, emin_eV));
}

}  // namespace rung
