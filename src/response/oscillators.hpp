#pragma once
// Oscillators ρ(G) = <i,k| e^{iG·r} |j,k> between two sets of bands at the same k (q = 0), by the exact
// G-space convolution
//
//   ρ_ij(G) = Σ_{G1} conj(c_i(G1)) c_j(G1 - G)
//
// (doc/solver-matrix-elements.md, Method). Why not an FFT: for the optics block (tens to hundreds of G) the
// convolution is one GEMM per chunk of G-vectors, (n_bra x ngw) x (ngw x n_ket·nG), with no FFT box,
// no aliasing (YAMBO's 2·n_max+1 box aliases slightly) and no per-band real-space transforms.
// For Si 8x8x8 (~250 plane waves, 4x12 bands, 113 G) it takes well under a millisecond per k
// (see doc/solver-matrix-elements.md for the measurement).
#include <Eigen/Dense>

#include <vector>

namespace rung::response {

using MillerMatrix = Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor>;

// Miller index -> row of a wavefunction's plane-wave list or a G block (a dense box lookup; -1 when absent).
// A Miller index listed twice is an error naming it.
class MillerLookup {
public:
  explicit MillerLookup(const MillerMatrix& miller);
  int find(const Eigen::Vector3i& m) const {
    int idx = 0;
    for (int d = 0; d < 3; ++d) {
      const int x = m[d] + half_[d];
      if (x < 0 || x >= size_[d]) return -1;
      idx = idx * size_[d] + x;
    }
    return table_[idx];
  }

private:
  Eigen::Vector3i half_, size_;
  std::vector<int> table_;
};

// The arithmetic of the convolution. single: the coefficients are rounded to single precision and the GEMM runs
// in it (twice the flop rate, half the bytes), relative error ~1e-6 of ρ, below the rounding of chi0's single
// precision storage (chi0.hpp); what the fast route's body uses. double: exact to double round-off (tests,
// the direct route, the heads).
enum class OscillatorPrecision { double_precision, single_precision };

// ρ for every G in `gvecs` (Miller indices): result (n_bra·n_ket) x nG, row j·n_bra + i holding
// <bra_i| e^{iG·r} |ket_j>. `bra`, `ket`: ngw x n coefficient blocks on the rows of `miller`.
Eigen::MatrixXcd oscillators(const MillerMatrix& miller, const Eigen::MatrixXcd& bra, const Eigen::MatrixXcd& ket,
                             const std::vector<Eigen::Vector3i>& gvecs,
                             OscillatorPrecision precision = OscillatorPrecision::double_precision);

}  // namespace rung::response
