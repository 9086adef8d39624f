#pragma once
// chi0 over the augmented basis of oscillator_table.hpp (3 Cartesian head components + the G ≠ 0 body),
// on every output frequency: M_ab(ω_i) = Σ_t w_t conj(a_ta) a_tb F(ω_i, E_t). Both routes return this.
#include <Eigen/Dense>

#include <algorithm>
#include <complex>
#include <vector>

#include "core/large_allocator.hpp"
#include "core/parallel.hpp"

namespace rung::response {

using Complex = std::complex<double>;

// chi0 is stored in single precision (as YAMBO's default build stores it) and read back into double precision for
// the Dyson equation (solve_dyson). The direct route computes it in double precision and rounds each element once;
// the fast route computes the body's oscillators and each bin of the spectral function in single precision
// (oscillators.hpp, chi0_spectral.cpp) and the Hilbert transform in double. Rounding to 24 bits changes the RPA
// spectra by parts in 10^7 (SC against the double-precision store ≥ 0.999999 on the reference cases,
// tests/response), and halves the largest array of an RPA run, its page faults and the MPI exchange of chi0
// between ranks.
using Chi0Scalar = std::complex<float>;
using Chi0Matrix = Eigen::Matrix<Chi0Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// Frequencies may be distributed over MPI ranks: a rank then holds the contiguous block
// [first, first + held) of the frequencies (comm.block(omega.size()), the block solve_dyson works on).
struct Chi0 {
  int n = 0;                  // 3 + number of G ≠ 0 vectors
  std::vector<double> omega;  // Ha, all frequencies
  std::size_t first = 0;      // first frequency held here
  std::size_t held = 0;       // frequencies held here
  std::vector<Chi0Scalar, LargeAllocator<Chi0Scalar>> data;  // held blocks of n x n, column-major

  Chi0() = default;
  // Zero-filled, all frequencies.
  Chi0(int n_, std::vector<double> omega_) : Chi0(n_, std::move(omega_), 0, std::size_t(-1), true) {}
  // Frequencies [first_, first_ + held_) only (held_ = -1: to the end); `zero`: fill with zeros, else leave
  // the values undefined (for a producer that writes every element).
  Chi0(int n_, std::vector<double> omega_, std::size_t first_, std::size_t held_, bool zero)
      : n(n_), omega(std::move(omega_)), first(std::min(first_, omega.size())),
        held(std::min(held_, omega.size() - first)), data(held * static_cast<std::size_t>(n_) * n_) {
    if (zero) std::fill(data.begin(), data.end(), Chi0Scalar(0));
  }
  std::size_t size() const { return omega.size(); }
  bool holds(std::size_t i) const { return i >= first && i < first + held; }
  bool holds_all() const { return first == 0 && held == omega.size(); }
  Eigen::Map<Chi0Matrix> at(std::size_t i) { return {data.data() + (i - first) * n * n, n, n}; }
  Eigen::Map<const Chi0Matrix> at(std::size_t i) const { return {data.data() + (i - first) * n * n, n, n}; }
  // Frequency i in double precision.
  Eigen::MatrixXcd matrix(std::size_t i) const { return at(i).cast<Complex>(); }
};

}  // namespace rung::response
