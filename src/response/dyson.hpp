#pragma once
// The macroscopic dielectric function from chi0 over the augmented basis (chi0.hpp), for every field
// direction at once. With the head block H_ij = M_ij (i, j Cartesian, already divided by q0²), wings
// W_ib = M_ib, W'_bj = M_bj and body B = M_bb' over the G ≠ 0 vectors with v_b = 4π/|G_b|², the bar-v
// (Schur complement) form (doc/solver.md, Dyson) gives for a direction q̂:
//
//   ε_LF(q̂) = 1 − 4π q̂ᵀ [ H + W diag(v) (1 − B diag(v))⁻¹ W' ] q̂ = 1 − 4π q̂ᵀ χ̄ q̂
//   ε_o(q̂)  = 1 − 4π q̂ᵀ H q̂                      (no local fields, IPA)
//
// so one LU of (1 − B v) per frequency with the three Cartesian right-hand sides yields the whole 3x3
// tensor χ̄: x, y, z, the trace (mean of the three diagonal components) and any other q̂ follow from it.
#include <Eigen/Dense>

#include <array>
#include <vector>

#include "core/parallel.hpp"
#include "response/chi0.hpp"

namespace rung::response {

struct MacroscopicResponse {
  std::vector<Eigen::Matrix3cd> chi_lf;    // χ̄ per frequency (equals chi_nolf for an empty body)
  std::vector<Eigen::Matrix3cd> chi_nolf;  // H per frequency
  // ε along q̂ (any length; normalised here): 1 − 4π q̂ᵀ χ q̂.
  std::vector<Complex> eps(const Eigen::Vector3d& q, bool local_fields) const;
  // Mean of ε_xx, ε_yy, ε_zz.
  std::vector<Complex> eps_trace(bool local_fields) const;
};

// v_body[b] = 4π/|G_b|² for the first n_body G ≠ 0 vectors; n_body may be smaller than chi.n - 3
// (a sub-block) and 0 (IPA: no Dyson solve). Frequencies are distributed over `comm` (comm.block); chi0 must
// hold at least this rank's block (chi0_spectral with the same communicator holds exactly that). The result
// (all frequencies) is the same on every rank.
MacroscopicResponse solve_dyson(const Chi0& chi, const std::vector<double>& v_body, int n_body, const Comm& comm);

}  // namespace rung::response
