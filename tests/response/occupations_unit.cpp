// Occupations and the Drude term on synthetic systems (no QE run needed).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/units.hpp"
#include "response/occupations.hpp"
#include "response/spectrum_driver.hpp"
#include "response/spectrum_request.hpp"

#include <cmath>
#include <iostream>
#include <limits>

using namespace rung;
using namespace rung::response;

// Fermi–Dirac level: a two-level system at every k has its level half-way (symmetric occupations), and the
// electron count is met to 1e-10 on an uneven spectrum.
TEST_CASE("Fermi-Dirac level by bisection", "[unit]") {
  // (Levels ±1 mHa, about k_B T apart: inside a real gap the count does not depend on the level to rounding.)
  Eigen::MatrixXd e(2, 2);
  e << -0.001, 0.001, -0.001, 0.001;
  const double kT = 300 * units::boltzmann_Ha_per_K;
  CHECK(std::abs(fermi_dirac_level(e, {1.0, 1.0}, 2.0, 2.0, kT)) < 1e-11);
  Eigen::MatrixXd u(3, 4);
  u << -0.3, -0.01, 0.002, 0.2, -0.25, 0.004, 0.03, 0.3, -0.28, -0.02, 0.05, 0.1;
  const std::vector<double> w{0.5, 0.25, 0.25};
  const double mu = fermi_dirac_level(u, w, 3.1, 2.0, kT);
  double n = 0;
  for (int k = 0; k < 3; ++k)
    for (int b = 0; b < 4; ++b) n += 2 * w[std::size_t(k)] * fermi_dirac(u(k, b), mu, kT);
  CHECK(std::abs(n - 3.1) < 1e-10);
  CHECK_THROWS(fermi_dirac_level(u, w, 8.0, 2.0, kT));  // the bands cannot hold 8 electrons strictly inside
}

// The Drude plasma frequency on a free-electron gas: the formula ω_p² = 4π/(N_k Ω) Σ g (−∂f/∂ε) v_x² over a
// uniform k grid (states ε = k²/2, v = k: the empty lattice unfolded into one grid) must give the electron
// density's 4π n, with n = g/(N_k Ω) Σ f on the same grid, at any temperature. Bound 1e-3: the grid (spacing 0.04
// bohr⁻¹ for a Fermi surface smeared over k_B T / k_F = 0.05 bohr⁻¹) is a quadrature of a smooth integrand.
TEST_CASE("Drude plasma frequency of a free-electron gas: 4π n", "[unit]") {
  const double dk = 0.04, kT = 0.05, mu = 0.5, g = 2;  // k_F = 1 bohr⁻¹
  const int m = 40;                                    // |k_i| < 1.6 bohr⁻¹: f < 1e-7 beyond
  Eigen::Matrix3d sum = Eigen::Matrix3d::Zero();
  double n_states = 0;
  for (int i = -m; i < m; ++i)
    for (int j = -m; j < m; ++j)
      for (int l = -m; l < m; ++l) {
        const Eigen::Vector3d k((i + 0.5) * dk, (j + 0.5) * dk, (l + 0.5) * dk);
        const double e = 0.5 * k.squaredNorm();
        add_intraband(sum, g, e, mu, kT, k * k.transpose());
        n_states += g * fermi_dirac(e, mu, kT);
      }
  // ω_p² and 4π n share the factor 4π / (N_k Ω) (N_k Ω = (2π)³ / dk³ per grid point): their ratio is Σ(−f') v_x² / Σ f.
  const double ratio = sum(0, 0) / n_states;
  std::cout << "free-electron gas: wp^2 / (4 pi n) = " << ratio << ", off-diagonal " << sum(0, 1) / n_states << std::endl;
  CHECK(std::abs(ratio - 1) < 1e-3);
  CHECK(std::abs(sum(1, 1) / n_states - 1) < 1e-3);
  CHECK(std::abs(sum(0, 1) / n_states) < 1e-10);
  // And the density itself is the free-electron one, k_F³/3π² times Sommerfeld's (1 + π²/8 (k_B T/μ)²) at fixed μ
  // (the next term, O((k_B T/μ)⁴) ~ 1e-4, sets the bound with the quadrature).
  const double n = n_states * dk * dk * dk / std::pow(2 * units::pi, 3);
  const double sommerfeld = 1 + units::pi * units::pi / 8 * (kT / mu) * (kT / mu);
  CHECK(std::abs(n / (sommerfeld / (3 * units::pi * units::pi)) - 1) < 1e-3);
}

TEST_CASE("Drude and occupation options: parsing", "[unit]") {
  CHECK(parse_drude("auto:0.1").plasma == DrudeOptions::Plasma::computed);
  const auto d = parse_drude("15.2:0.05");
  CHECK(d.plasma == DrudeOptions::Plasma::given);
  CHECK(d.plasma_eV == 15.2);
  CHECK(d.damping_eV == 0.05);
  for (const char* bad : {"auto", "15", "x:0.1", "15:-1", "-3:0.1", "15:0.1x"}) CHECK_THROWS(parse_drude(bad));
  CHECK(parse_occupation_source("qe") == OccupationSource::qe);
  CHECK(parse_occupation_source("fd") == OccupationSource::fermi_dirac);
  CHECK_THROWS(parse_occupation_source("mv"));
  // the request's Drude temperature: >= 0 (0 = the occupations' temperature) and finite, a bad one named by its key
  SpectrumRequest r;
  r.drude_temperature_K = 450;
  CHECK(r.to_options("x").drude.temperature_K == 450);
  r.drude_temperature_K = 0;
  CHECK(r.to_options("x").drude.temperature_K == 0);
  for (double bad : {-1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
    INFO("drude_temperature_K " << bad);
    r.drude_temperature_K = bad;
    CHECK_THROWS_AS(r.to_options("x"), Error);
    CHECK_THROWS_WITH(r.to_options("x"), Catch::Matchers::Contains("drude_temperature_K"));
  }
}

// occupations='fixed' fills bands by count whatever the bands do: two k-points, 4 bands, 2 filled. With the second
// band below the third at every k the run is an insulator; with the second band at one k above the third at the
// other (a negative gap: graphene-like or LDA Ge filled by count) it is refused, naming the XML and the energies.
TEST_CASE("fixed occupations: filled by count only where the bands leave a gap", "[unit]") {
  qe::Save s;
  s.xml = "si.save/data-file-schema.xml";
  s.occupations = "fixed";
  s.nbnd = 4;
  s.nelec = 4;
  s.k_cart = {Eigen::Vector3d::Zero(), Eigen::Vector3d(0.1, 0, 0)};
  s.k_weights = {1.0, 1.0};
  s.eigenvalues.resize(2, 4);
  s.eigenvalues << -0.5, 0.10, 0.12, 0.5,  //
      -0.5, 0.00, 0.20, 0.5;
  const auto ok = compute_occupations(s);
  CHECK_FALSE(ok.metal);
  CHECK(ok.f(0, 1) == 1.0);
  CHECK(ok.f(1, 2) == 0.0);
  s.eigenvalues(1, 1) = 0.15;  // above the third band's 0.12 at the first k
  try {
    compute_occupations(s);
    FAIL("a fixed-occupation run without a gap was taken as an insulator");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("data-file-schema.xml") && Catch::Matchers::Contains("smearing"));
  }
}
