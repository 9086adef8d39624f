#pragma once
// Velocity matrix elements <i,k| v |j,k> with v = p + i[V_nl, r] = ∂H_k/∂k (Hartree a.u.), the
// "G-space v" approach of YAMBO (doc/solver-matrix-elements.md, Method):
//
//   <i|p|j>        = Σ_G conj(c_i(G)) (k+G) c_j(G)
//   <i|i[V_nl,r]|j> = ∂_k <i|V_nl(k)|j> at fixed coefficients
//                  = (dP^H D P + P^H D dP)_ij,  P = β^H C,  dP_α = (∂_α β)^H C
//
// computed with one GEMM per Cartesian component for the projections of all bands of the window.
#include <Eigen/Dense>

#include <array>

#include "io/qe/save.hpp"
#include "response/kb_projectors.hpp"

namespace rung::response {

// <bra_i|v_α|ket_j> for α = x, y, z. `coefficients` holds the bands of interest (ngw x nb, the rows of
// wf.miller), or 2 ngw x nb for two-component spinors (↑ rows, then ↓; p summed over the components, V_nl with
// the projectors' spin coupling, including the spin-orbit part of fully relativistic ones);
// bra = columns [0, n_bra), ket = columns [n_bra, nb). `kb` null: momentum only (no [V_nl,r],
// what QE's epsilon.x computes).
std::array<Eigen::MatrixXcd, 3> velocity_matrix_elements(const Eigen::Vector3d& k_cart,
                                                         const Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor>& miller,
                                                         const Eigen::Matrix3d& reciprocal,
                                                         const Eigen::MatrixXcd& coefficients, Eigen::Index n_bra,
                                                         const KBProjectors* kb);

}  // namespace rung::response
