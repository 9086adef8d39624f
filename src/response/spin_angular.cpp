#include "response/spin_angular.hpp"

#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/quadrature.hpp"
#include "response/spherical_harmonics.hpp"

namespace rung::response {

std::array<Eigen::MatrixXcd, 3> orbital_angular_momentum(int l) {
  if (l < 0 || l > max_harmonic_l) fail("orbital_angular_momentum: l = " + std::to_string(l) + " out of range");
  const int n = harmonic_count(l);
  std::array<Eigen::MatrixXcd, 3> L;
  for (auto& m : L) m = Eigen::MatrixXcd::Zero(n, n);
  // The integrand Y_lm (q × ∇S_lm')_α is a polynomial of degree 2l <= 6 on the unit sphere: 8 Gauss points in
  // cos θ and 16 uniform points in φ integrate it exactly.
  const auto [ct, wt] = gauss_legendre(8);
  const int nphi = 16;
  for (std::size_t it = 0; it < ct.size(); ++it)
    for (int ip = 0; ip < nphi; ++ip) {
      const double phi = 2 * std::numbers::pi * ip / nphi, st = std::sqrt(1 - ct[it] * ct[it]);
      const Eigen::Vector3d q(st * std::cos(phi), st * std::sin(phi), ct[it]);
      const double w = wt[it] * 2 * std::numbers::pi / nphi;
      std::vector<double> y(static_cast<std::size_t>(n));
      std::vector<Eigen::Vector3d> lq(static_cast<std::size_t>(n));
      for (int m = 0; m < n; ++m) {
        Eigen::Vector3d g;
        y[std::size_t(m)] = solid_harmonic(l, m, q, &g);
        lq[std::size_t(m)] = q.cross(g);
      }
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b)
          for (int al = 0; al < 3; ++al)
            L[al](a, b) += std::complex<double>(0, -w * y[std::size_t(a)] * lq[std::size_t(b)][al]);
    }
  return L;
}

Eigen::MatrixXcd j_projector(int l, double j) {
  const bool up = std::abs(j - (l + 0.5))<1e-6, down = l> 0 && std::abs(j - (l - 0.5)) < 1e-6;
  if (!up && !down) fail("j_projector: j = " + std::to_string(j) + " is not l ± 1/2 for l = " + std::to_string(l));
  const int n = harmonic_count(l);
  const auto L = orbital_angular_momentum(l);
  using C = std::complex<double>;
  // Pauli matrices in the basis (↑, ↓).
  const std::array<Eigen::Matrix2cd, 3> sigma = {(Eigen::Matrix2cd() << 0, 1, 1, 0).finished(),
                                                 (Eigen::Matrix2cd() << 0, C(0, -1), C(0, 1), 0).finished(),
                                                 (Eigen::Matrix2cd() << 1, 0, 0, -1).finished()};
  Eigen::MatrixXcd ls = Eigen::MatrixXcd::Zero(2 * n, 2 * n);
  for (int al = 0; al < 3; ++al)
    for (int s = 0; s < 2; ++s)
      for (int t = 0; t < 2; ++t) ls.block(s * n, t * n, n, n) += sigma[al](s, t) * L[al];
  const Eigen::MatrixXcd one = Eigen::MatrixXcd::Identity(2 * n, 2 * n);
  const Eigen::MatrixXcd p = up ? Eigen::MatrixXcd(double(l + 1) * one + ls) : Eigen::MatrixXcd(double(l) * one - ls);
  return p / double(2 * l + 1);
}

}  // namespace rung::response
