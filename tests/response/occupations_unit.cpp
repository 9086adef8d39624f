// Occupations and the Drude term on synthetic systems (no QE run needed).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/units.hpp"
#include "io/qe/summary.hpp"
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

// A spin-polarised smearing run of `nbnd` bands per channel and `nelec` electrons, its k-points at equal weight
// (energies and occupations for the test to fill).
static qe::Save lsda_smearing_save(int nbnd, double nelec, std::vector<Eigen::Vector3d> k) {
  qe::Save s;
  s.xml = "fe.save/data-file-schema.xml";
  s.occupations = "smearing";
  s.lsda = true;
  s.nbnd = nbnd;
  s.nelec = nelec;
  s.k_weights.assign(k.size(), 1.0);
  s.k_cart = std::move(k);
  return s;
}

// A spin-polarised run with an empty channel (a fully polarised insulator): two k-points, 3 bands per channel, the
// up channel's 2 lowest bands filled below a gap, the down channel empty. Insulating (no partly occupied band in
// either channel); its gap is from the up channel's highest filled level (-0.20 Ha) to the lowest empty one, which is
// the down channel's first band (0.05 Ha), not the up channel's third (0.30 Ha).
TEST_CASE("spin-polarised insulator with an empty channel", "[unit]") {
  auto s = lsda_smearing_save(3, 2, {Eigen::Vector3d::Zero(), Eigen::Vector3d(0.1, 0, 0)});
  s.eigenvalues.resize(2, 6);
  s.eigenvalues << -0.5, -0.25, 0.30, 0.05, 0.40, 0.60,  //
      -0.45, -0.20, 0.35, 0.08, 0.45, 0.70;
  s.occupations_kb.resize(2, 6);
  s.occupations_kb << 1, 1, 0, 0, 0, 0,  //
      1, 1, 0, 0, 0, 0;
  CHECK(s.filled_bands(0) == 2);
  CHECK(s.filled_bands(1) == 0);
  CHECK(s.is_insulator());
  const auto o = compute_occupations(s);
  CHECK_FALSE(o.metal);
  CHECK(o.f(1, 1) == 1.0);
  CHECK(o.f(1, 3) == 0.0);
  const auto g = qe::ks_gaps(s);
  REQUIRE(g);
  CHECK(g->vbm == Approx(-0.20));
  CHECK(g->cbm == Approx(0.05));
  CHECK(g->nocc == 2);
  // a fractional filling in the down channel is a metal
  s.occupations_kb(0, 3) = 0.5;
  CHECK_FALSE(s.filled_bands(1));
  CHECK_FALSE(s.is_insulator());
}

// A YAMBO SAVE keeps no occupations: a spin-polarised one is filled below a gap common to both channels where there
// is one. nelec 3, 3 bands per channel, two k-points: up -0.50/-0.20/0.30, down -0.45/0.10/0.40 (second k 0.01 Ha
// higher): the three states below 0.10 are two up and one down (vbm -0.19, cbm 0.10). With the down channel's
// second band lowered to -0.21..-0.15 at one k, it crosses the up channel's second band (-0.20..-0.19): no common
// gap holds three states (up 2 + down 1: vbm -0.19 > cbm -0.21; up 1 + down 2: vbm -0.15 > cbm -0.20), a metal.
TEST_CASE("spin-polarised energies without occupations: filled below a common gap", "[unit]") {
  qe::Save s;
  s.lsda = true;
  s.nbnd = 3;
  s.nelec = 3;
  s.eigenvalues.resize(2, 6);
  s.eigenvalues << -0.50, -0.20, 0.30, -0.45, 0.10, 0.40,  //
      -0.49, -0.19, 0.31, -0.44, 0.11, 0.41;
  const auto fill = s.common_gap_filling();
  REQUIRE(fill);
  CHECK((*fill)[0] == 2);
  CHECK((*fill)[1] == 1);
  // what the YAMBO SAVE reader then writes: an insulator, as the same run read from QE's save would be
  s.occupations = "smearing";
  s.k_cart = {Eigen::Vector3d::Zero(), Eigen::Vector3d(0.1, 0, 0)};
  s.k_weights = {1.0, 1.0};
  s.occupations_kb = Eigen::MatrixXd::Zero(2, 6);
  s.occupations_kb.leftCols(2).setOnes();
  s.occupations_kb.col(3).setOnes();
  CHECK(s.is_insulator());
  s.eigenvalues(0, 4) = -0.21;
  s.eigenvalues(1, 4) = -0.15;
  CHECK_FALSE(s.common_gap_filling());
  s.nelec = 2.5;  // a fractional electron count is never a band insulator
  CHECK_FALSE(s.common_gap_filling());
}

// QE's two Fermi levels (fixed total magnetisation): each channel keeps QE's electron count. One k-point, 2 bands
// per channel: up -0.10 / 0.00 Ha with QE's fillings 1 / 0.6, down -0.05 / 0.20 with 0.4 / 0. Fermi-Dirac at 300 K
// then needs f(0.00) = 0.6 up and f(-0.05) = 0.4 down (the other bands are 1 and 0 to e^-30): mu_up =
// kT ln(0.6/0.4) and mu_down = -0.05 - kT ln(0.6/0.4). One common level for both channels fills the two lowest
// states, -0.10 up and -0.05 down, moving 0.6 electrons from up to down (the magnetisation QE fixed lost).
TEST_CASE("two Fermi levels: each spin channel keeps its electron count", "[unit]") {
  auto s = lsda_smearing_save(2, 2, {Eigen::Vector3d::Zero()});
  s.eigenvalues.resize(1, 4);
  s.eigenvalues << -0.10, 0.00, -0.05, 0.20;
  s.occupations_kb.resize(1, 4);
  s.occupations_kb << 1.0, 0.6, 0.4, 0.0;
  s.two_fermi_energies = std::array<double, 2>{0.001, -0.051};
  s.fermi_energy = 0.001;
  const double kT = 300 * units::boltzmann_Ha_per_K;
  const auto o = compute_occupations(s);
  REQUIRE(o.metal);
  REQUIRE(o.fermi_energy_spin.size() == 2);
  CHECK(o.level(0) == Approx(kT * std::log(1.5)).margin(1e-9));
  CHECK(o.level(1) == Approx(-0.05 - kT * std::log(1.5)).margin(1e-9));
  CHECK(o.f(0, 0) + o.f(0, 1) == Approx(1.6).margin(1e-9));
  CHECK(o.f(0, 2) + o.f(0, 3) == Approx(0.4).margin(1e-9));
  // QE's own occupations keep QE's two levels
  const auto q = compute_occupations(s, {OccupationSource::qe, 300});
  CHECK(q.level(0) == 0.001);
  CHECK(q.level(1) == -0.051);
  // without the two levels: one common level for both channels (one electron in each)
  s.two_fermi_energies.reset();
  const auto c = compute_occupations(s);
  CHECK(c.fermi_energy_spin.empty());
  CHECK(c.f(0, 2) + c.f(0, 3) == Approx(1.0).margin(1e-6));
}
