#pragma once
// Real spherical harmonics as solid harmonics S_lm(q) = |q|^l Y_lm(q̂), l <= 3, with their gradients.
// Y_lm is the real (tesseral) basis, orthonormal on the unit sphere. The KB non-local potential only
// ever needs Σ_m Y_lm(a) Y_lm(b) within an l-shell, which is invariant under any unitary change of the
// m basis, so real harmonics give the same [V_nl, r] as YAMBO's complex Condon-Shortley set.
// Solid harmonics are polynomials: no division by |q| and a smooth gradient at q = 0.
#include <Eigen/Dense>

namespace rung::response {

inline constexpr int max_harmonic_l = 3;

// Number of m components of shell l (2l+1).
constexpr int harmonic_count(int l) { return 2 * l + 1; }

// S_lm(q) for m = 0..2l (tesseral order: sin-type ... m=0 ... cos-type), and ∇_q S_lm(q) when
// `gradient` is not null. l must be in 0..max_harmonic_l.
double solid_harmonic(int l, int m, const Eigen::Vector3d& q, Eigen::Vector3d* gradient = nullptr);

}  // namespace rung::response
