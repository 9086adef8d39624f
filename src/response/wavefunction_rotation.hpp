#pragma once
// Symmetry operations of a QE run and how they carry wavefunctions, oscillators and dipoles from an
// irreducible k to a member k' = s·S·k of its star (s = -1: time reversal).
//
// With the space-group operation g = {S|f}: r -> S r + f (f in crystal coordinates) and plane waves
// ψ_k = Σ_G c(G) e^{i(k+G)·r}, the rotated state O_g ψ_k(r) = ψ_k(g⁻¹r) is
//
//   c_{Sk}(G) = e^{-i(Sk+G)·f} c_k(S⁻¹G),             ψ_{-Sk} = conj(ψ_{Sk}),
//
// and therefore (the k-part of the phase cancels between the two bands of a transition)
//
//   ρ_{Sk}(G)  = e^{iG·f} ρ_k(S⁻¹G),                  ρ_{-Sk}(G) = e^{iG·f} conj(ρ_k(-S⁻¹G)),
//   <c|v|v>_{Sk} = S <c|v|v>_k,                        <c|v|v>_{-Sk} = -conj(S <c|v|v>_k).
//
// YAMBO never has f ≠ 0 (p2y demands force_symmorphic); QE runs without it do.
#include <Eigen/Dense>

#include <complex>
#include <vector>

#include "io/qe/save.hpp"

namespace rung::response {

struct SpaceGroupOp {
  Eigen::Matrix3i rotation;      // on crystal coordinates of positions: x' = R x + f
  Eigen::Matrix3i k_rotation;    // on crystal coordinates of k and G (Miller indices): κ' = R^{-T} κ
  Eigen::Matrix3d cartesian;     // the same rotation in Cartesian coordinates (orthogonal)
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();  // f, crystal coordinates, sign as in x' = R x + f
};

// The operations the run used (QE's symmetry list), each checked against the crystal: R τ_a ± f must be an
// atom of the same species modulo the lattice. The check fixes the sign convention of QE's fractional
// translation; an operation that maps the crystal with neither sign -> fail_input(save.xml).
// With nosym (or an empty list) only the identity is returned.
std::vector<SpaceGroupOp> space_group_ops(const qe::Save& save);

// The identity operation.
SpaceGroupOp identity_op();

// How the body of the G block is carried to the star member (S, s):
//   ρ_{k'}(G_b) = phase[b] · X(ρ_k(G_{source[b]})),  X = identity for s = +1, complex conjugation for s = -1.
// Indices are positions in `block`. Fails (fail_usage) when the block is not closed under the operation.
struct BlockRotation {
  std::vector<int> source;
  std::vector<std::complex<double>> phase;
  bool conjugate = false;
};
BlockRotation rotate_block(const std::vector<Eigen::Vector3i>& block, const SpaceGroupOp& op, int time_reversal);

// The wavefunction at k' = s·S·k built from the one at k (single-component spinors only); the plane-wave
// list is the rotated one (same length, same row order as the input).
qe::Wavefunction rotate_wavefunction(const qe::Wavefunction& wf, const SpaceGroupOp& op, int time_reversal,
                                     const Eigen::Matrix3d& reciprocal);

}  // namespace rung::response
