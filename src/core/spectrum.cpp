#include "core/spectrum.hpp"

#include "core/error.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung {

std::string Spectrum::meta(const std::string& key) const {
  const auto it = metadata.find(key);
  return it == metadata.end() ? std::string() : it->second;
}

std::vector<double> Spectrum::imag() const {
  std::vector<double> v(eps.size());
  for (std::size_t i = 0; i < eps.size(); ++i) v[i] = eps[i].imag();
  return v;
}

std::vector<double> Spectrum::real() const {
  std::vector<double> v(eps.size());
  for (std::size_t i = 0; i < eps.size(); ++i) v[i] = eps[i].real();
  return v;
}

void Spectrum::validate(const std::string& origin) const {
  if (energy_eV.empty()) fail_input(origin, "spectrum has no points");
  if (eps.size() != energy_eV.size())
    fail_input(origin, fmt::format("{} energies but {} eps values", energy_eV.size(), eps.size()));
  if (eps_nolf && eps_nolf->size() != energy_eV.size())
    fail_input(origin,
               fmt::format("{} energies but {} eps values without local fields", energy_eV.size(), eps_nolf->size()));
  for (std::size_t i = 0; i < energy_eV.size(); ++i) {
    if (!std::isfinite(energy_eV[i]) || !std::isfinite(eps[i].real()) || !std::isfinite(eps[i].imag()))
      fail_input(origin, fmt::format("non-finite value at point {} (E = {})", i, energy_eV[i]));
    if (i > 0 && !(energy_eV[i] > energy_eV[i - 1]))
      fail_input(origin, fmt::format("energies not strictly increasing at point {} ({} after {})", i,
                                     energy_eV[i], energy_eV[i - 1]));
  }
}

}  // namespace rung
