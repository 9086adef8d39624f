#pragma once
// Spin-angular algebra of the fully relativistic (j-dependent) projectors in rung's real-harmonic basis
// (response/spherical_harmonics.hpp) times the two spinor components (↑, ↓ along z, as QE stores them).
//
// A fully relativistic pseudopotential has separate projectors for j = l ± 1/2. In the plane-wave basis
// each acts through the projector onto its j subspace of the (l, s = 1/2) shell,
//
//   P_{l+1/2} = ((l+1) + L·σ) / (2l+1),     P_{l-1/2} = (l − L·σ) / (2l+1),
//
// because L·σ = 2 L·S has the eigenvalue l on j = l + 1/2 and −(l+1) on j = l − 1/2. This is QE's fcoef
// (Σ_mj <Y_lm σ|l j mj><l j mj|Y_lm' σ'>, doc/solver.md, "Spinors and spin–orbit (noncollinear runs)") written
// without Clebsch–Gordan tables.
// L = −i q × ∇_q has the same form in k space as in real space, so it acts on the harmonics of q̂.
#include <Eigen/Dense>

#include <array>

namespace rung::response {

// (L_α)_{mm'} = <Y_lm| L_α |Y_lm'> for α = x, y, z in the real (tesseral) basis of solid_harmonic(),
// by exact Gauss quadrature on the sphere. Hermitian, purely imaginary.
std::array<Eigen::MatrixXcd, 3> orbital_angular_momentum(int l);

// P_j of the shell l as a 2(2l+1) square matrix, row/column index σ (2l+1) + m (σ = 0 for ↑, 1 for ↓).
// j must be l ± 1/2 (l = 0: 1/2).
Eigen::MatrixXcd j_projector(int l, double j);

}  // namespace rung::response
