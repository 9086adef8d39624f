#include "response/dipoles.hpp"

#include "core/error.hpp"

namespace rung::response {

std::array<Eigen::MatrixXcd, 3> velocity_matrix_elements(const Eigen::Vector3d& k_cart,
                                                         const Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor>& miller,
                                                         const Eigen::Matrix3d& reciprocal,
                                                         const Eigen::MatrixXcd& c, Eigen::Index n_bra,
                                                         const KBProjectors* kb) {
  const Eigen::Index ngw = miller.rows(), nb = c.cols();
  // Two-component spinors: p is diagonal in spin (the sum over the two components); V_nl couples them through
  // the spin coupling D^{σσ'} of the projectors (spin-diagonal without spin-orbit, KBProjectors::spin_coupling):
  // with P = (β^H C_↑; β^H C_↓) and dP likewise, i[V_nl, r] = dP^H D P + P^H D dP as for one component.
  if (ngw > 0 && c.rows() == 2 * ngw) {
    auto v = velocity_matrix_elements(k_cart, miller, reciprocal, c.topRows(ngw), n_bra, nullptr);
    const auto down = velocity_matrix_elements(k_cart, miller, reciprocal, c.bottomRows(ngw), n_bra, nullptr);
    for (int al = 0; al < 3; ++al) v[al] += down[al];
    if (!kb || kb->size() == 0) return v;
    const Eigen::MatrixXcd& D = kb->spin_coupling();
    const Eigen::Index np = Eigen::Index(kb->size()), n_ket = nb - n_bra;
    if (D.rows() != 2 * np)
      fail("velocity_matrix_elements: two-component spinors but no spin coupling of the projectors");
    const auto pw = kb->plane_waves(k_cart, miller);
    auto project = [&](const Eigen::MatrixXcd& b) {
      Eigen::MatrixXcd p(2 * np, nb);
      p.topRows(np).noalias() = b.adjoint() * c.topRows(ngw);
      p.bottomRows(np).noalias() = b.adjoint() * c.bottomRows(ngw);
      return p;
    };
    const Eigen::MatrixXcd P = project(pw.beta);
    const Eigen::MatrixXcd DPket = D * P.rightCols(n_ket);
    const Eigen::MatrixXcd PbraD = P.leftCols(n_bra).adjoint() * D;
    for (int al = 0; al < 3; ++al) {
      const Eigen::MatrixXcd dP = project(pw.dbeta[al]);
      v[al].noalias() += dP.leftCols(n_bra).adjoint() * DPket;
      v[al].noalias() += PbraD * dP.rightCols(n_ket);
    }
    return v;
  }
  if (kb && kb->spin_orbit()) fail("velocity_matrix_elements: spin-orbit projectors need two-component spinors");
  if (c.rows() != ngw) fail("velocity_matrix_elements: coefficients do not match the plane-wave list");
  if (n_bra < 0 || n_bra > nb) fail("velocity_matrix_elements: bad bra range");
  const Eigen::Index n_ket = nb - n_bra;
  const auto bra = c.leftCols(n_bra);
  const auto ket = c.rightCols(n_ket);

  // (k+G)_α for every plane wave.
  Eigen::MatrixX3d kg(ngw, 3);
  for (Eigen::Index i = 0; i < ngw; ++i)
    kg.row(i) = (k_cart + reciprocal.transpose() * miller.row(i).transpose().cast<double>()).transpose();

  std::array<Eigen::MatrixXcd, 3> v;
  for (int al = 0; al < 3; ++al) v[al].noalias() = bra.adjoint() * (kg.col(al).asDiagonal() * ket);

  if (kb && kb->size() > 0) {
    const auto pw = kb->plane_waves(k_cart, miller);
    const Eigen::MatrixXcd P = pw.beta.adjoint() * c;  // nproj x nb
    const Eigen::MatrixXcd D = kb->coupling().cast<std::complex<double>>();
    const Eigen::MatrixXcd DPket = D * P.rightCols(n_ket);
    const Eigen::MatrixXcd PbraD = P.leftCols(n_bra).adjoint() * D;
    for (int al = 0; al < 3; ++al) {
      const Eigen::MatrixXcd dP = pw.dbeta[al].adjoint() * c;
      v[al].noalias() += dP.leftCols(n_bra).adjoint() * DPket;
      v[al].noalias() += PbraD * dP.rightCols(n_ket);
    }
  }
  return v;
}

}  // namespace rung::response
