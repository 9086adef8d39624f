#pragma once
// The optical constants of a dielectric function, computed in one place for every spectrum rung writes
// (the HDF5 spectrum file, the YAMBO-layout text, the Python module). With eps = eps1 + i eps2 at photon
// energy E (eV), per frequency point (doc/spectrum-formats.md):
//   complex refractive index  N = n + i k = sqrt(eps), the principal root (n >= 0; k >= 0 where eps2 >= 0)
//   reflectivity at normal incidence (vacuum on one side)  R = ((n-1)^2 + k^2) / ((n+1)^2 + k^2)
//   absorption coefficient  alpha = 2 (E/hbar) k / c = 2 E k / (hbar c)   in cm^-1 (hbar c in eV cm)
//   loss function  L = -Im(1/eps) = eps2 / |eps|^2   (what YAMBO's o-*.eel_* files hold as Im(eel))
// eps = 0 exactly has no loss function (1/eps diverges): L is set to 0 there and only there.
#include <complex>
#include <string>
#include <vector>

namespace rung {

// hbar c in eV cm (CODATA 2018: 197.3269804 MeV fm).
inline constexpr double hbar_c_eV_cm = 1.973269804e-5;

struct OpticalConstants {
  std::vector<double> n, k, reflectivity, absorption_cm, loss;
};

// One entry per point of `energy_eV`; the sizes must match (rung::Error otherwise).
OpticalConstants optical_constants(const std::vector<double>& energy_eV, const std::vector<std::complex<double>>& eps);

// The constants' names as written in files and by the Python module, with their units, in a fixed order:
// n, k, reflectivity, absorption_cm, loss.
struct OpticalConstantInfo {
  const char* name;   // dataset / column / key name
  const char* label;  // plain text, for a plot axis or a header
  const char* unit;   // "" when dimensionless, else e.g. "cm^-1"
};
const std::vector<OpticalConstantInfo>& optical_constant_names();
// The values of one constant by name (fail_usage listing the names for an unknown one).
const std::vector<double>& optical_constant(const OpticalConstants& c, const std::string& name);

}  // namespace rung
