#include "response/oscillators.hpp"

#include <cblas.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"

namespace rung::response {

MillerLookup::MillerLookup(const MillerMatrix& miller) {
  half_.setZero();
  for (Eigen::Index i = 0; i < miller.rows(); ++i)
    for (int d = 0; d < 3; ++d) half_[d] = std::max(half_[d], std::abs(miller(i, d)));
  size_ = 2 * half_ + Eigen::Vector3i::Ones();
  table_.assign(std::size_t(size_[0]) * size_[1] * size_[2], -1);
  for (Eigen::Index i = 0; i < miller.rows(); ++i) {
    const int idx = ((miller(i, 0) + half_[0]) * size_[1] + miller(i, 1) + half_[1]) * size_[2] + miller(i, 2) + half_[2];
    if (table_[idx] != -1)
      fail(fmt::format("duplicate Miller index ({} {} {}) in a list of G-vectors (entries {} and {})", miller(i, 0),
                       miller(i, 1), miller(i, 2), table_[idx] + 1, i + 1));
    table_[idx] = int(i);
  }
}

namespace {

// G-vectors per chunk, so that the gathered ket block (ngw x chunk·n_ket elements) stays within 32 MB.
Eigen::Index g_chunk(Eigen::Index ngw, Eigen::Index nk, Eigen::Index ng, std::size_t element_bytes) {
  const Eigen::Index budget = Eigen::Index((std::size_t(32) << 20) / element_bytes);
  return std::max<Eigen::Index>(1, std::min<Eigen::Index>(ng, budget / std::max<Eigen::Index>(ngw * nk, 1)));
}

// Per plane wave i, the row of the ket holding the coefficient at Miller index miller_i − G (-1 where absent).
void shifted_rows(const MillerMatrix& miller, const MillerLookup& lookup, const Eigen::Vector3i& G,
                  std::vector<int>& src) {
  for (Eigen::Index i = 0; i < miller.rows(); ++i)
    src[i] = lookup.find(Eigen::Vector3i(miller(i, 0) - G[0], miller(i, 1) - G[1], miller(i, 2) - G[2]));
}

// Single precision: the ket's coefficients plane wave by plane wave (row-major, n_ket values each), so that the
// shifted block of one G is gathered as whole rows; the shifted block row-major too (ngw rows of chunk·n_ket),
// which the GEMM reads transposed.
void oscillators_single(const MillerMatrix& miller, const MillerLookup& lookup, const Eigen::MatrixXcd& bra,
                        const Eigen::MatrixXcd& ket, const std::vector<Eigen::Vector3i>& gvecs, Eigen::MatrixXcd& out) {
  using Cf = std::complex<float>;
  using RowMajorCf = Eigen::Matrix<Cf, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index ngw = miller.rows(), nb = bra.cols(), nk = ket.cols(), ng = Eigen::Index(gvecs.size());
  const Eigen::MatrixXcf bra_f = bra.cast<Cf>();
  const RowMajorCf ket_f = ket.cast<Cf>();
  const Eigen::Index chunk = g_chunk(ngw, nk, ng, sizeof(Cf));
  RowMajorCf shifted(ngw, chunk * nk);
  Eigen::MatrixXcf prod(nb, chunk * nk);
  std::vector<int> src(ngw);
  for (Eigen::Index g0 = 0; g0 < ng; g0 += chunk) {
    const Eigen::Index nc = std::min(chunk, ng - g0), width = chunk * nk;
    for (Eigen::Index g = 0; g < nc; ++g) {
      shifted_rows(miller, lookup, gvecs[g0 + g], src);
      for (Eigen::Index i = 0; i < ngw; ++i) {
        Cf* to = shifted.data() + i * width + g * nk;
        if (src[i] >= 0) std::copy_n(ket_f.data() + Eigen::Index(src[i]) * nk, nk, to);
        else std::fill_n(to, nk, Cf(0));
      }
    }
    const Cf one(1, 0), zero(0, 0);
    // prod (nb x nc·nk) = bra^H · shifted, with `shifted` row-major: the column-major (width x ngw) transpose
    cblas_cgemm(CblasColMajor, CblasConjTrans, CblasTrans, int(nb), int(nc * nk), int(ngw), &one, bra_f.data(),
                int(ngw), shifted.data(), int(width), &zero, prod.data(), int(nb));
    for (Eigen::Index g = 0; g < nc; ++g)
      out.col(g0 + g) =
          Eigen::Map<const Eigen::VectorXcf>(prod.data() + g * nk * nb, nb * nk).cast<std::complex<double>>();
  }
}

}  // namespace

Eigen::MatrixXcd oscillators(const MillerMatrix& miller, const Eigen::MatrixXcd& bra, const Eigen::MatrixXcd& ket,
                             const std::vector<Eigen::Vector3i>& gvecs, OscillatorPrecision precision) {
  const Eigen::Index ngw = miller.rows(), nb = bra.cols(), nk = ket.cols();
  if (bra.rows() != ngw || ket.rows() != ngw) fail("oscillators: coefficient blocks do not match the plane-wave list");
  const Eigen::Index ng = Eigen::Index(gvecs.size());
  Eigen::MatrixXcd out(nb * nk, ng);
  if (ng == 0 || nb == 0 || nk == 0) return out;
  const MillerLookup lookup(miller);
  if (precision == OscillatorPrecision::single_precision) {
    oscillators_single(miller, lookup, bra, ket, gvecs, out);
    return out;
  }

  const Eigen::Index chunk = g_chunk(ngw, nk, ng, sizeof(std::complex<double>));
  Eigen::MatrixXcd shifted(ngw, chunk * nk);
  Eigen::MatrixXcd prod(nb, chunk * nk);
  std::vector<int> src(ngw);
  for (Eigen::Index g0 = 0; g0 < ng; g0 += chunk) {
    const Eigen::Index nc = std::min(chunk, ng - g0);
    for (Eigen::Index g = 0; g < nc; ++g) {
      shifted_rows(miller, lookup, gvecs[g0 + g], src);
      for (Eigen::Index j = 0; j < nk; ++j) {
        auto col = shifted.col(g * nk + j);
        for (Eigen::Index i = 0; i < ngw; ++i) col[i] = src[i] >= 0 ? ket(src[i], j) : std::complex<double>(0, 0);
      }
    }
    // prod = bra^H · shifted: OpenBLAS's zgemm is ~5x faster than Eigen's complex product without -march.
    const std::complex<double> one(1, 0), zero(0, 0);
    cblas_zgemm(CblasColMajor, CblasConjTrans, CblasNoTrans, int(nb), int(nc * nk), int(ngw), &one, bra.data(), int(ngw),
                shifted.data(), int(ngw), &zero, prod.data(), int(nb));
    // Column g of the result is the n_bra x n_ket block of `prod`, flattened column-major (j·n_bra + i).
    for (Eigen::Index g = 0; g < nc; ++g)
      out.col(g0 + g) = Eigen::Map<const Eigen::VectorXcd>(prod.data() + g * nk * nb, nb * nk);
  }
  return out;
}

}  // namespace rung::response
