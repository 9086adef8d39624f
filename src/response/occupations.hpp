#pragma once
// Occupation numbers for the optics solver (doc/solver.md, "Occupations").
//
// Insulators keep their integer fillings (f = 1 below the gap, 0 above; YAMBO's T = 0 rule). Metals
// (partial occupations) follow YAMBO's default: Fermi–Dirac occupations at an electronic temperature
// (300 K unless asked otherwise) with a Fermi level found from the Kohn–Sham energies and the electron
// count, one common level for both spin channels of a collinear run (a run at fixed total magnetisation, for which
// QE writes two Fermi levels, keeps each channel's electron count from QE's occupations, with a level of its own):
//
//   f_nks = 1 / (1 + exp((ε_nks − μ) / k_B T)),     Σ_k w_k Σ_s Σ_n g f_nks = N_el     (Σ_k w_k = 1)
//
// with g = 2 electrons per state for a spin-unpolarised run and g = 1 per spin channel (lsda) or per
// spinor state (noncollinear). Alternatively the occupations QE wrote (its smearing) can be used as they are.
// Every f here is per state, in [0, 1] (QE's smearing may leave it slightly outside).
#include <Eigen/Dense>

#include <string>
#include <vector>

#include "io/qe/save.hpp"

namespace rung::response {

enum class OccupationSource { fermi_dirac, qe };
OccupationSource parse_occupation_source(const std::string& s);  // "fd" | "fermi-dirac" | "qe"
std::string to_string(OccupationSource);

struct OccupationOptions {
  OccupationSource source = OccupationSource::fermi_dirac;  // metals only; insulators keep 1/0
  double temperature_K = 300.0;                              // YAMBO's default electronic temperature
};

struct Occupations {
  bool metal = false;            // partial occupations (the save is not an insulator)
  int n_spin = 1;                // collinear spin channels: 2 for lsda
  int nbnd = 0;                  // bands per channel
  double spin_factor = 2;        // electrons per state: 2 unpolarised, 1 lsda or noncollinear
  OccupationSource source = OccupationSource::fermi_dirac;
  double temperature_K = 0;      // 0 for insulators
  double fermi_energy = 0;       // Ha: the level found (Fermi–Dirac), QE's (qe), mid-gap-free: VBM (insulators)
  // A run at fixed total magnetisation (QE's two Fermi levels): each channel's own level (up, down; Ha), and
  // fermi_energy the higher; empty otherwise (one level for both channels).
  std::vector<double> fermi_energy_spin;
  Eigen::MatrixXd f;             // nk x (n_spin * nbnd), per state, spin channel s in columns s*nbnd..
  // Per spin channel (0-based band indices): the lowest band not completely filled at some k, and the
  // highest band not completely empty at some k ("partly" = 1e-10 away from 1 or 0). An insulator has
  // lowest = highest + 1 = its number of occupied bands.
  std::vector<int> lowest_partial, highest_partial;
  double at(Eigen::Index ik, int spin, int band) const { return f(ik, spin * nbnd + band); }
  // The Fermi level of spin channel `spin` (Ha).
  double level(int spin) const {
    return fermi_energy_spin.empty() ? fermi_energy : fermi_energy_spin.at(std::size_t(spin));
  }
};

// Threshold below which an occupation difference (or a distance to 0 or 1) counts as zero.
inline constexpr double occupation_epsilon = 1e-10;

// Occupations of a QE run. Metals: Fermi–Dirac at options.temperature_K (> 0) or QE's own occupations.
// A temperature that is not positive, or an electron count the bands cannot hold: rung::Error (usage/input).
Occupations compute_occupations(const qe::Save& save, const OccupationOptions& options = {});

// The Fermi level (Ha) of Fermi–Dirac occupations at k_B T = kT (Ha) for `eigenvalues` (nk x n_states),
// k weights `weights` (normalised here) and `n_electrons` with `spin_factor` electrons per state. Bisection
// to 1e-13 Ha; the electron count must lie strictly between 0 and spin_factor * n_states.
double fermi_dirac_level(const Eigen::MatrixXd& eigenvalues, const std::vector<double>& weights, double n_electrons,
                         double spin_factor, double kT);
double fermi_dirac(double e, double mu, double kT);
// −∂f/∂ε of the Fermi–Dirac function, f (1 − f) / k_B T (Ha⁻¹).
double fermi_dirac_derivative(double e, double mu, double kT);

// The Drude (intraband) term. With the intraband velocities v_nks = <nks|p + i[V_nl, r]|nks> (for a degenerate
// group, the sum over the group of Re(v_nm v_mnᵀ), which does not depend on the basis inside it):
//
//   ω_p²_αβ = 4π / (N_k Ω) Σ_k Σ_s Σ_n g (−∂f/∂ε)_nks v_nks,α v_nks,β                (Hartree a.u.)
//
// and the dielectric function gains ε_D,αβ(ω) = −ω_p²_αβ / (ω (ω + iγ)) at the real frequency (as YAMBO's
// X_drude: the interband broadening η does not enter; at ω + iη, Re ε_D would be positive below ~η). ε_D diverges
// at ω = 0 (Im ~ ω_p² / (γ ω)): ω is taken at least drude_omega_floor_Ha there, YAMBO's floor. A free-electron gas
// gives ω_p² = 4π n.
inline constexpr double drude_omega_floor_Ha = 1e-8;
struct DrudeOptions {
  enum class Plasma { off, given, computed } plasma = Plasma::off;
  double plasma_eV = 0;        // given
  double damping_eV = 0;       // γ
  double temperature_K = 0;    // computed: the temperature of −∂f/∂ε; 0 = the occupations' temperature
};
// "WP:GAMMA" (eV) or "auto:GAMMA"; usage error otherwise.
DrudeOptions parse_drude(const std::string& s);
// One state's share of Σ g (−∂f/∂ε) v vᵀ: added to `sum`.
void add_intraband(Eigen::Matrix3d& sum, double g, double e, double mu, double kT, const Eigen::Matrix3d& vv);

}  // namespace rung::response
