#pragma once
// Physical constants and unit conversions. Inside rung everything is Hartree atomic units
// (energy Ha, length Bohr); conversions happen only at the edges (readers, CLI, output files).
#include <numbers>

namespace rung::units {

inline constexpr double pi = std::numbers::pi;
inline constexpr double two_pi = 2.0 * std::numbers::pi;
inline constexpr double four_pi = 4.0 * std::numbers::pi;

// CODATA 2018 (what QE 6.7 uses).
inline constexpr double hartree_eV = 27.211386245988;
inline constexpr double bohr_angstrom = 0.529177210903;
inline constexpr double angstrom_bohr = 1.0 / bohr_angstrom;
inline constexpr double rydberg_hartree = 0.5;
inline constexpr double boltzmann_Ha_per_K = 3.1668115634556e-6;  // k_B (CODATA 2018)
// YAMBO's HA2EV (mod_units.F). Its eV grids are converted with this value; rung uses it only where it
// reproduces YAMBO's own input conversions (the difference is 1e-7 relative).
inline constexpr double yambo_hartree_eV = 27.2113834;

constexpr double eV_to_Ha(double e) { return e / hartree_eV; }
constexpr double Ha_to_eV(double e) { return e * hartree_eV; }
constexpr double Ry_to_Ha(double e) { return e * rydberg_hartree; }
constexpr double Ha_to_Ry(double e) { return e / rydberg_hartree; }
constexpr double Ang_to_Bohr(double x) { return x * angstrom_bohr; }
constexpr double Bohr_to_Ang(double x) { return x * bohr_angstrom; }

}  // namespace rung::units
