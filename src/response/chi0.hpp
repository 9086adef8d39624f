#pragma once
// chi0 over the augmented basis of oscillator_table.hpp (3 Cartesian head components + the G ≠ 0 body),
// on every output frequency: M_ab(ω_i) = Σ_t w_t conj(a_ta) a_tb F(ω_i, E_t). Both routes return this.
#include <Eigen/Dense>

#include <complex>
#include <vector>

#include "core/parallel.hpp"

namespace rung::response {

using Complex = std::complex<double>;

struct Chi0 {
  int n = 0;                  // 3 + number of G ≠ 0 vectors
  std::vector<double> omega;  // Ha
  std::vector<Complex> data;  // omega.size() blocks of n x n, column-major

  Chi0() = default;
  Chi0(int n_, std::vector<double> omega_)
      : n(n_), omega(std::move(omega_)), data(omega.size() * static_cast<std::size_t>(n_) * n_) {}
  std::size_t size() const { return omega.size(); }
  Eigen::Map<Eigen::MatrixXcd> at(std::size_t i) { return {data.data() + i * n * n, n, n}; }
  Eigen::Map<const Eigen::MatrixXcd> at(std::size_t i) const { return {data.data() + i * n * n, n, n}; }
  void sum_over(const Comm& comm) { comm.sum(data.data(), data.size()); }
};

}  // namespace rung::response
