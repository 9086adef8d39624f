// Matrix-element building blocks that need no QE run: spherical harmonics, radial Bessel transforms,
// the G-space convolution for ρ(G) against brute force.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <iomanip>
#include <random>

#include "core/quadrature.hpp"
#include "response/kb_projectors.hpp"
#include "response/oscillators.hpp"
#include "response/spherical_harmonics.hpp"

using namespace rung::response;
using Complex = std::complex<double>;

TEST_CASE("real solid harmonics are orthonormal on the sphere and their gradients are exact",
          "[unit][matrix_elements]") {
  // Product quadrature (Gauss-Legendre in cos θ x uniform φ) integrates polynomials of degree <= 2·12-1 exactly.
  const auto [ct, wt] = rung::gauss_legendre(12);
  const int nphi = 24;
  std::vector<std::pair<int, int>> lm;
  for (int l = 0; l <= max_harmonic_l; ++l)
    for (int m = 0; m < harmonic_count(l); ++m) lm.push_back({l, m});
  Eigen::MatrixXd overlap = Eigen::MatrixXd::Zero(lm.size(), lm.size());
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < nphi; ++j) {
      const double phi = 2 * std::numbers::pi * j / nphi, st = std::sqrt(1 - ct[i] * ct[i]);
      const Eigen::Vector3d u(st * std::cos(phi), st * std::sin(phi), ct[i]);
      const double w = wt[i] * 2 * std::numbers::pi / nphi;
      for (std::size_t a = 0; a < lm.size(); ++a)
        for (std::size_t b = 0; b < lm.size(); ++b)
          overlap(a, b) += w * solid_harmonic(lm[a].first, lm[a].second, u) * solid_harmonic(lm[b].first, lm[b].second, u);
    }
  // Exact quadrature: only rounding remains.
  CHECK((overlap - Eigen::MatrixXd::Identity(lm.size(), lm.size())).cwiseAbs().maxCoeff() < 1e-13);

  // Homogeneity S(λq) = λ^l S(q), addition theorem Σ_m Y_lm(a) Y_lm(b) = (2l+1)/(4π) P_l(a·b), and the
  // analytic gradient against central differences (a cubic polynomial: the difference is exact up to h²·S''').
  std::mt19937 rng(7);
  std::normal_distribution<double> nd;
  for (int trial = 0; trial < 20; ++trial) {
    const Eigen::Vector3d a = Eigen::Vector3d(nd(rng), nd(rng), nd(rng)).normalized();
    const Eigen::Vector3d b = Eigen::Vector3d(nd(rng), nd(rng), nd(rng)).normalized();
    const double x = a.dot(b);
    const double P[4] = {1, x, 0.5 * (3 * x * x - 1), 0.5 * (5 * x * x * x - 3 * x)};
    for (int l = 0; l <= 3; ++l) {
      double sum = 0;
      for (int m = 0; m < harmonic_count(l); ++m) {
        sum += solid_harmonic(l, m, a) * solid_harmonic(l, m, b);
        const Eigen::Vector3d q = 1.7 * a;
        CHECK(solid_harmonic(l, m, q) == Approx(std::pow(1.7, l) * solid_harmonic(l, m, a)).margin(1e-14));
        Eigen::Vector3d grad;
        solid_harmonic(l, m, q, &grad);
        const double h = 1e-5;
        for (int d = 0; d < 3; ++d) {
          Eigen::Vector3d qp = q, qm = q;
          qp[d] += h;
          qm[d] -= h;
          const double fd = (solid_harmonic(l, m, qp) - solid_harmonic(l, m, qm)) / (2 * h);
          CHECK(grad[d] == Approx(fd).margin(1e-8));
        }
      }
      CHECK(sum == Approx((2 * l + 1) / (4 * std::numbers::pi) * P[l]).margin(1e-13));
    }
  }
  CHECK_THROWS(solid_harmonic(4, 0, Eigen::Vector3d(1, 0, 0)));
}

TEST_CASE("j_l(x)/x^l matches the standard library and the KB form-factor table its direct integral",
          "[unit][matrix_elements]") {
  double h[7];
  for (double x : {1e-6, 0.01, 0.3, 1.0, 2.5, 3.999, 4.0, 4.001, 7.3, 20.0, 55.5}) {
    bessel_over_power(6, x, h);
    for (int l = 0; l <= 6; ++l) {
      const double ref = std::sph_bessel(l, x) / std::pow(x, l);
      // Relative 1e-11: the series loses ~1 digit near x = 4, the recursion a few for l = 6 at x = 4.
      CHECK(h[l] == Approx(ref).epsilon(1e-11).margin(1e-300));
    }
  }
  bessel_over_power(3, 0.0, h);
  CHECK(h[0] == 1.0);
  CHECK(h[3] == Approx(1.0 / 105));

  // A synthetic projector rβ(r) = r^{l+1} e^{-r²} on a log mesh: table vs direct integration, derivative vs
  // central differences of the direct integral.
  std::vector<double> r, rab, rb;
  const int n = 601;
  for (int i = 0; i < n; ++i) {
    const double x = -8 + 0.02 * i;
    r.push_back(std::exp(x));
    rab.push_back(0.02 * std::exp(x));
  }
  for (int l = 0; l <= 3; ++l) {
    rb.clear();
    for (double ri : r) rb.push_back(std::pow(ri, l + 1) * std::exp(-ri * ri));
    const RadialFormFactor table(l, r, rab, rb, 6.0);
    // Analytic: f_l(q) = ∫ r^{l+2} e^{-r²} j_l(qr) dr = sqrt(π)/2^{l+2} q^l e^{-q²/4}, so g = f/q^l.
    for (double q : {0.0, 0.013, 0.5, 1.234, 3.3, 5.99}) {
      double g = 0, g1 = 0, gd = 0, g1d = 0, g2d = 0;
      table.evaluate(q, g, g1);
      RadialFormFactor::integrate(l, r, rab, rb, q, gd, g1d, g2d);
      const double exact = std::sqrt(std::numbers::pi) / std::pow(2.0, l + 2) * std::exp(-q * q / 4);
      INFO("l = " << l << " q = " << q << " direct " << std::setprecision(15) << gd << " exact " << exact);
      // Simpson on the 0.02 log mesh: 1e-9 relative, and ~1e-11 absolute (g(0) = 0.44) at q = 6 where j_l(qr)
      // oscillates fastest and g has decayed to 6e-5.
      CHECK(gd == Approx(exact).epsilon(1e-9).margin(1e-10));
      CHECK(g == Approx(gd).epsilon(1e-8).margin(1e-12));  // Hermite table, dq = 0.01
      CHECK(g1 == Approx(-0.5 * exact).epsilon(1e-6).margin(1e-10));  // g'/q = -g/2 analytically
      CHECK(g1d == Approx(-0.5 * exact).epsilon(1e-9));
    }
    double g = 0, g1 = 0;
    CHECK_THROWS(table.evaluate(6.5, g, g1));
  }
}

TEST_CASE("G-space convolution for rho(G) equals a brute-force pair sum", "[unit][matrix_elements]") {
  // Random coefficients on a sphere of Miller indices, orthonormalised: ρ_ij(G) = Σ_{G1,G2: G1-G2=G} c_i*(G1) c_j(G2).
  MillerMatrix miller(0, 3);
  std::vector<Eigen::Vector3i> ms;
  for (int i = -4; i <= 4; ++i)
    for (int j = -4; j <= 4; ++j)
      for (int k = -4; k <= 4; ++k)
        if (i * i + j * j + k * k + i * j <= 14) ms.push_back({i, j, k});
  miller.resize(ms.size(), 3);
  for (std::size_t i = 0; i < ms.size(); ++i) miller.row(i) = ms[i].transpose();
  const int ngw = int(ms.size()), nb = 7;
  std::mt19937 rng(3);
  std::normal_distribution<double> nd;
  Eigen::MatrixXcd c(ngw, nb);
  for (int i = 0; i < ngw; ++i)
    for (int j = 0; j < nb; ++j) c(i, j) = Complex(nd(rng), nd(rng));
  c = Eigen::HouseholderQR<Eigen::MatrixXcd>(c).householderQ() * Eigen::MatrixXcd::Identity(ngw, nb);

  std::vector<Eigen::Vector3i> gs = {{0, 0, 0}, {1, 0, 0}, {-1, 2, 0}, {3, 3, -2}, {8, 0, 0}, {9, 0, 0}, {0, 0, 20}};
  const Eigen::MatrixXcd bra = c.leftCols(3), ket = c.rightCols(4);
  const Eigen::MatrixXcd rho = oscillators(miller, bra, ket, gs);
  REQUIRE(rho.rows() == 12);
  REQUIRE(rho.cols() == Eigen::Index(gs.size()));
  double worst = 0;
  for (std::size_t g = 0; g < gs.size(); ++g)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 3; ++i) {
        Complex sum = 0;
        for (int a = 0; a < ngw; ++a)
          for (int b = 0; b < ngw; ++b)
            if (ms[a] - ms[b] == gs[g]) sum += std::conj(bra(a, i)) * ket(b, j);
        worst = std::max(worst, std::abs(sum - rho(j * 3 + i, g)));
      }
  CHECK(worst < 1e-14);
  // Beyond twice the sphere the product has no component: exactly zero.
  CHECK(rho.col(6).norm() == 0.0);
  // G = 0: the overlap matrix; orthonormal bands give δ_ij.
  const Eigen::MatrixXcd self = oscillators(miller, c, c, {Eigen::Vector3i::Zero()});
  const Eigen::MatrixXcd ov = Eigen::Map<const Eigen::MatrixXcd>(self.data(), nb, nb);
  CHECK((ov - Eigen::MatrixXcd::Identity(nb, nb)).cwiseAbs().maxCoeff() < 1e-14);

  // The fast route's single-precision convolution: the same pairs (a gather by whole plane-wave rows, a CGEMM).
  // Coefficients of unit-norm bands rounded to 24 bits (relative 6e-8 each) summed over ~200 plane waves: an error
  // of a few 1e-7 of the bands' norm; 1e-6 bounds it, and a wrong pairing or shift would be off by O(0.1).
  const Eigen::MatrixXcd rho_single = oscillators(miller, bra, ket, gs, OscillatorPrecision::single_precision);
  REQUIRE(rho_single.rows() == rho.rows());
  REQUIRE(rho_single.cols() == rho.cols());
  CHECK((rho_single - rho).cwiseAbs().maxCoeff() < 1e-6);
  CHECK((rho_single - rho).cwiseAbs().maxCoeff() > 0.0);  // it did run in single precision
  CHECK(rho.cwiseAbs().maxCoeff() > 0.05);
  CHECK(rho_single.col(6).norm() == 0.0);
}
