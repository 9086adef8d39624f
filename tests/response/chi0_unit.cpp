// Unit tests of the response solver on synthetic oscillators: the spectral (FFT) route against the exact
// frequency-by-frequency route, the bar-v Dyson form against the full-v inversion, directions and the
// trace, the broadening kernels, and the G-block shell rule on the fcc lattice.
#include <catch2/catch.hpp>

#include "chi0_synthetic_system.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/runtime.hpp"
#include "core/thread_pools.hpp"
#include "core/units.hpp"
#include "response/broadening.hpp"
#include "response/chi0_direct.hpp"
#include "response/chi0_spectral.hpp"
#include "response/dyson.hpp"
#include "response/field_direction.hpp"
#include "response/convergence.hpp"
#include "response/gblock.hpp"
#include "response/hilbert_transform.hpp"
#include "support/paths.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <numbers>
#include <string>
#include <thread>

using namespace rung;
using namespace rung::response;

namespace {

std::vector<double> grid_Ha(double emin_eV, double emax_eV, std::size_t n) {
  std::vector<double> w(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = units::eV_to_Ha(emin_eV + (emax_eV - emin_eV) * double(i) / double(n - 1));
  return w;
}

std::vector<double> part(const std::vector<Complex>& z, bool imag) {
  std::vector<double> r;
  for (auto c : z) r.push_back(imag ? c.imag() : c.real());
  return r;
}

double sc(const std::vector<double>& omega, const std::vector<Complex>& x, const std::vector<Complex>& ref, bool imag) {
  return similarity_coefficient(omega, part(x, imag), part(ref, imag));
}

double max_rel(const Chi0& a, const Chi0& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    num = std::max(num, std::abs(Complex(a.data[i]) - Complex(b.data[i])));
    den = std::max(den, std::abs(Complex(b.data[i])));
  }
  return num / den;
}

}  // namespace

TEST_CASE("broadening kernels: Dawson function, Lorentzian and Gaussian limits", "[unit]") {
  // Reference values of Dawson's integral (Abramowitz & Stegun table 7.5 / mpmath).
  CHECK(dawson(0.0) == 0.0);
  CHECK(dawson(0.1) == Approx(0.09933599239785286).epsilon(1e-13));
  CHECK(dawson(1.0) == Approx(0.5380795069127684).epsilon(1e-13));
  CHECK(dawson(-2.5) == Approx(-0.2230837221674355).epsilon(1e-13));
  CHECK(dawson(10.0) == Approx(0.05025384718759853).epsilon(1e-12));

  const double eta = 0.01, E = 0.2;
  // Time-ordered Lorentzian: Im F < 0 on both sides of ω = 0 (YAMBO's Im ε(0) > 0), retarded: Im F(0) = 0.
  FrequencyKernel t(BroadeningShape::lorentz, Ordering::time_ordered, eta);
  FrequencyKernel r(BroadeningShape::lorentz, Ordering::retarded, eta);
  CHECK(t(0.0, E).imag() < 0);
  CHECK(std::abs(r(0.0, E).imag()) < 1e-15);
  CHECK(std::abs(t(0.15, E) - (r(0.15, E) + (-1.0 / Complex(0.15 + E, -eta) + 1.0 / Complex(0.15 + E, eta)))) < 1e-12);
  // Gaussian: ∫ -Im r(x) dx = π (a normalised δ times π), Re r → 1/x far away.
  FrequencyKernel gk(BroadeningShape::gauss, Ordering::retarded, eta);
  double integral = 0;
  for (double x = -0.2; x <= 0.2; x += 1e-5) integral += -gk.resonant(x).imag() * 1e-5;
  CHECK(integral == Approx(std::numbers::pi).epsilon(1e-6));
  CHECK(gk.resonant(0.5).real() == Approx(1.0 / 0.5).epsilon(1e-3));
  // epsilon.x's oscillator form: -2E/(E² - ω² - iηω).
  FrequencyKernel osc(BroadeningShape::oscillator, Ordering::retarded, eta);
  CHECK(std::abs(osc(0.1, E) - (-2 * E / Complex(E * E - 0.01, -eta * 0.1))) < 1e-12);
  CHECK_FALSE(osc.shift_invariant());
  CHECK_THROWS_AS(parse_ordering("X"), Error);
  CHECK(parse_broadening("Gauss") == BroadeningShape::gauss);
}

TEST_CASE("spectral route equals the direct route (SC >= 0.9999) for every kernel and ordering", "[unit]") {
  const int nb = 8;
  const auto table = test::synthetic_table(3000, nb);
  const auto omega = grid_Ha(0.0, 20.0, 401);
  const auto v = test::synthetic_coulomb(nb);
  const Comm self = Comm::self();
  struct Case {
    BroadeningShape shape;
    Ordering ordering;
    double eta_eV;
  };
  for (const Case c : {Case{BroadeningShape::lorentz, Ordering::time_ordered, 0.3},
                       Case{BroadeningShape::lorentz, Ordering::retarded, 0.1},
                       Case{BroadeningShape::gauss, Ordering::time_ordered, 0.3},
                       Case{BroadeningShape::oscillator, Ordering::retarded, 0.3}}) {
    INFO("shape " << to_string(c.shape) << " ordering " << to_string(c.ordering) << " eta " << c.eta_eV);
    const FrequencyKernel k(c.shape, c.ordering, units::eV_to_Ha(c.eta_eV));
    SpectralInfo info;
    const Chi0 fast = chi0_spectral(table, omega, k, self, {}, -1, &info);
    const Chi0 exact = chi0_direct(table, omega, k, self);
    CHECK(info.used_fft == k.shift_invariant());
    const auto rf = solve_dyson(fast, v, nb, self), re = solve_dyson(exact, v, nb, self);
    const std::vector<double> w_eV = [&] {
      std::vector<double> x;
      for (double o : omega) x.push_back(units::Ha_to_eV(o));
      return x;
    }();
    for (bool lf : {false, true}) {
      const auto ef = rf.eps_trace(lf), ee = re.eps_trace(lf);
      // The documented accuracy of linear binning with 30 points per η (chi0_spectral.hpp); measured 0.99997.
      CHECK(sc(w_eV, ef, ee, true) >= 0.9999);
      CHECK(sc(w_eV, ef, ee, false) >= 0.9999);
    }
    // Elementwise too (the body drives the Dyson solve): relative to the largest element.
    CHECK(max_rel(fast, exact) < 2e-3);
  }
}

TEST_CASE("spectral route: tiny tiles, odd grids and negative frequencies give the same chi0", "[unit]") {
  const int nb = 5;
  const auto table = test::synthetic_table(800, nb, 11);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.2));
  const Comm self = Comm::self();
  for (const auto& omega : {grid_Ha(-3.0, 17.3, 203), grid_Ha(1.234, 9.0, 77)}) {
    const Chi0 ref = chi0_spectral(table, omega, k, self);
    SpectralOptions tiny;
    tiny.tile_bytes = 1;  // one column per tile
    SpectralInfo info;
    const Chi0 tiled = chi0_spectral(table, omega, k, self, tiny, -1, &info);
    CHECK(info.tiles == static_cast<std::size_t>(3 + nb));
    // the same sums in another grouping: equal up to chi0's single-precision store (2^-24 = 6e-8 of an element)
    CHECK(max_rel(tiled, ref) < 2e-7);
    const Chi0 exact = chi0_direct(table, omega, k, self);
    CHECK(max_rel(ref, exact) < 3e-3);
  }
}

TEST_CASE("spectral route: retarded poles below the bin lattice's origin count as the direct route has them",
          "[unit]") {
  // A metal's near-degenerate pairs (E of 1e-5 Ha up, heads ~ 1/E) on a grid whose lattice origin e0 lies above 0
  // (emin not a multiple of the bin spacing): placed at e0 with their full weight they would count e0/E times over.
  const int nb = 4;
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::retarded, units::eV_to_Ha(0.2));
  const auto omega = grid_Ha(1.234, 9.0, 77);
  auto table = test::synthetic_table(1500, nb, 5);
  const auto grid = SpectralGrid::make(omega, k.eta(), SpectralOptions{}.points_per_eta, table.max_energy());
  REQUIRE(grid.e0 > 2e-5);  // (the case: e0 = 0 puts no pole below the origin)
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::RowVectorXcd a(3 + nb);
  for (int i = 0; i < 200; ++i) {
    const double e = 1e-5 + (grid.e0 - 1e-5) * u(rng);
    for (int c = 0; c < a.size(); ++c) a[c] = {u(rng) - 0.5, u(rng) - 0.5};
    a.head(3) *= 0.05 / e;
    table.append(e, 1e-5, a);
  }
  const Chi0 fast = chi0_spectral(table, omega, k, Comm::self());
  const Chi0 exact = chi0_direct(table, omega, k, Comm::self());
  // measured 3.4e-5 with the poles' weights scaled by E/e0, 1.87 without (the spectral route's accuracy: < 3e-3)
  CHECK(max_rel(fast, exact) < 3e-3);
}

TEST_CASE("threads: chi0 and the Dyson solves on two OpenMP threads equal one thread's, OpenBLAS's count restored",
          "[unit]") {
#ifndef _OPENMP
  RUNG_SKIP_UNLESS(false, "built without OpenMP: one thread only, nothing to compare");
#else
  const int nb = 8;
  const auto table = test::synthetic_table(900, nb, 17);
  const auto omega = grid_Ha(0.0, 12.0, 151);
  const auto v = test::synthetic_coulomb(nb);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const int omp_before = openmp_max_threads();
  const int blas_before = openblas_threads();  // 0 without OpenBLAS
  auto run = [&](int threads) {
    set_openmp_threads(threads);
    set_openblas_threads(threads);  // the oversubscribing combination the solver must undo inside its loops
    SpectralOptions tiny;
    tiny.tile_bytes = 4096;  // several tiles: each re-enters the parallel binning
    auto chi = chi0_spectral(table, omega, k, Comm::self(), tiny);
    auto r = solve_dyson(chi, v, nb, Comm::self());
    if (blas_before > 0) CHECK(openblas_threads() == threads);  // the host's setting, as it was before the calls
    return std::make_pair(std::move(chi), std::move(r));
  };
  const auto one = run(1);
  const auto two = run(2);
  set_openmp_threads(omp_before);
  if (blas_before > 0) set_openblas_threads(blas_before);
  // Each bin's sum is the same BLAS call on either thread count, and every element is written by one thread:
  // the results are bit-identical, not merely close.
  CHECK(max_rel(two.first, one.first) == 0.0);
  for (std::size_t i = 0; i < omega.size(); ++i) CHECK((two.second.chi_lf[i] - one.second.chi_lf[i]).norm() == 0.0);
#endif
}

TEST_CASE("host threads: chi0 built from four threads at once (each planning its own FFTs) equals the serial result",
          "[unit]") {
  // A library host (the C API, the Python module with the GIL released) may call rung from several threads.
  // FFTW's planner is not thread-safe, so rung makes and destroys its plans under one lock
  // (response/hilbert_transform.cpp). Each thread here has its own frequency grid, hence its own FFT length,
  // and makes and destroys its plans 40 times while the others do the same; without the lock FFTW's planner
  // tables are written concurrently: with the lock taken out, 10 of 10 runs of this test aborted or crashed
  // (a race, so not a certainty). Each result must be bit-identical to the same call made alone.
  const int nb = 4;
  const auto table = test::synthetic_table(300, nb, 23);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const std::vector<std::vector<double>> grids = {grid_Ha(0.0, 20.0, 201), grid_Ha(0.0, 15.0, 97),
                                                  grid_Ha(-2.0, 18.0, 301), grid_Ha(0.5, 9.5, 61)};
  std::vector<Chi0> serial;
  for (const auto& omega : grids) serial.push_back(chi0_spectral(table, omega, k, Comm::self()));
  const int rounds = 40;
  std::vector<double> worst(grids.size(), 0.0);
  std::vector<std::string> failures(grids.size());
  {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < grids.size(); ++t)
      threads.emplace_back([&, t] {
        try {
          for (int r = 0; r < rounds; ++r)
            worst[t] = std::max(worst[t], max_rel(chi0_spectral(table, grids[t], k, Comm::self()), serial[t]));
        } catch (const std::exception& e) {
          failures[t] = e.what();
        }
      });
    for (auto& th : threads) th.join();
  }
  for (std::size_t t = 0; t < grids.size(); ++t) {
    INFO("thread " << t << " (" << grids[t].size() << " frequencies)");
    CHECK(failures[t].empty());
    CHECK(worst[t] == 0.0);
  }
}

namespace {
std::atomic<int> g_chi0_checks{0};
// "no" at the first step (after 0.11 s, so that the next step asks again), "yes" at the next
bool stop_at_second_check() {
  if (++g_chi0_checks == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(110));
    return false;
  }
  return true;
}
}  // namespace

TEST_CASE("a host's interrupt check stops chi0 between two tiles with rung::Interrupted", "[unit]") {
  const int nb = 6;
  const auto table = test::synthetic_table(400, nb, 29);
  const auto omega = grid_Ha(0.0, 10.0, 101);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  SpectralOptions tiny;
  tiny.tile_bytes = 1;  // one column per tile: 3 + nb tiles, a check after each
  {
    InterruptScope scope(&stop_at_second_check);
    g_chi0_checks = 0;
    CHECK_THROWS_AS(chi0_spectral(table, omega, k, Comm::self(), tiny), Interrupted);
    CHECK(g_chi0_checks == 2);  // asked in or after the first tile ("no"), then ("yes") before the last tile ended
    g_chi0_checks = 0;
    CHECK_THROWS_AS(chi0_direct(table, omega, k, Comm::self()), Interrupted);  // between two frequencies
    CHECK(g_chi0_checks == 2);
  }
  CHECK(chi0_spectral(table, omega, k, Comm::self(), tiny).n == 3 + nb);  // without the scope it runs to the end
}

TEST_CASE("a host's interrupt check stops chi0 inside a tile and the Dyson solves between frequencies", "[unit]") {
  const int nb = 6;
  const auto table = test::synthetic_table(400, nb, 29);
  const auto omega = grid_Ha(0.0, 10.0, 101);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const Chi0 chi = chi0_spectral(table, omega, k, Comm::self());  // (one tile: no check between tiles)
  REQUIRE(chi.n == 3 + nb);
  {
    InterruptScope scope(&stop_at_second_check);
    // one tile: asked in its loops (where a 113-G tile spends seconds), not only once it is done
    g_chi0_checks = 0;
    CHECK_THROWS_AS(chi0_spectral(table, omega, k, Comm::self()), Interrupted);
    CHECK(g_chi0_checks == 2);
    // the Dyson solves (seconds for a large block) ask between frequencies
    g_chi0_checks = 1;  // (the next answer is "yes")
    CHECK_THROWS_AS(solve_dyson(chi, test::synthetic_coulomb(nb), nb, Comm::self()), Interrupted);
  }
  CHECK(solve_dyson(chi, test::synthetic_coulomb(nb), nb, Comm::self()).chi_lf.size() == omega.size());
}

TEST_CASE("sub-blocks: the leading columns of a table give the chi0 of the smaller block", "[unit]") {
  const auto table = test::synthetic_table(500, 10, 3);
  const auto omega = grid_Ha(0.0, 10.0, 101);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const Chi0 big = chi0_direct(table, omega, k, Comm::self());
  const Chi0 small = chi0_direct(table, omega, k, Comm::self(), 3 + 4);
  for (std::size_t i = 0; i < omega.size(); i += 10)
    // equal up to chi0's single-precision store (2^-24 = 6e-8 of an element)
    CHECK((big.matrix(i).topLeftCorner(7, 7) - small.matrix(i)).norm() <= 2e-7 * small.matrix(i).norm());
}

TEST_CASE("Dyson: bar-v form equals the full-v inversion with q0 = 1e-5", "[unit]") {
  const int nb = 6;
  const auto table = test::synthetic_table(400, nb, 5);
  const auto omega = grid_Ha(0.0, 15.0, 31);
  const auto v = test::synthetic_coulomb(nb);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const Chi0 chi = chi0_direct(table, omega, k, Comm::self());
  const auto r = solve_dyson(chi, v, nb, Comm::self());
  const Eigen::Vector3d q = Eigen::Vector3d(1.0, -2.0, 0.5).normalized();
  const auto eps = r.eps(q, true);
  const double q0 = 1e-5;
  for (std::size_t i = 0; i < omega.size(); ++i) {
    // YAMBO's way: full chi0 over (G=0, body) with ρ(0) = q0 q̂·head, v_0 = 4π/q0², chi = (1 - chi0 v)^-1 chi0.
    const Eigen::MatrixXcd m = chi.matrix(i);
    Eigen::MatrixXcd full(nb + 1, nb + 1);
    const Eigen::Vector3cd qc = q.cast<Complex>();
    full(0, 0) = q0 * q0 * qc.dot(m.topLeftCorner(3, 3) * qc);
    for (int b = 0; b < nb; ++b) {
      full(0, 1 + b) = q0 * (qc.transpose() * m.block(0, 3 + b, 3, 1))(0);
      full(1 + b, 0) = q0 * (m.block(3 + b, 0, 1, 3) * qc)(0);
    }
    full.bottomRightCorner(nb, nb) = m.bottomRightCorner(nb, nb);
    Eigen::VectorXd vfull(nb + 1);
    vfull[0] = 4 * std::numbers::pi / (q0 * q0);
    for (int b = 0; b < nb; ++b) vfull[1 + b] = v[b];
    Eigen::MatrixXcd kern = -(full * vfull.asDiagonal());
    kern.diagonal().array() += 1.0;
    const Eigen::MatrixXcd chifull = kern.partialPivLu().solve(full);
    const Complex eps_inv00 = 1.0 + vfull[0] * chifull(0, 0);
    // Double-precision conditioning of the full-v form with v_0 ~ 1e11: ~1e-6 relative.
    CHECK(std::abs(1.0 / eps_inv00 - eps[i]) <= 1e-6 * std::abs(eps[i]));
  }
  // Without a body, the Dyson result is the IPA: ε = 1 − 4π q̂ᵀ H q̂ with H the head of chi0, computed here.
  const auto ipa = solve_dyson(chi, v, 0, Comm::self()).eps(q, true);
  const Eigen::Vector3cd qc = q.cast<Complex>();
  for (std::size_t i = 0; i < omega.size(); ++i) {
    const Eigen::Matrix3cd head = chi.matrix(i).topLeftCorner(3, 3);
    const Complex expect = 1.0 - 4 * std::numbers::pi * qc.dot(head * qc);  // (q real: dot's conjugation is a no-op)
    CHECK(std::abs(ipa[i] - expect) <= 1e-12 * std::abs(expect));
  }
}

TEST_CASE("chi0 refuses a column count outside 3..n, a non-finite energy and a bad weight, naming them", "[unit]") {
  const auto table = test::synthetic_table(40, 2, 13);  // 3 + 2 columns
  const auto omega = grid_Ha(0.0, 10.0, 11);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const Comm self = Comm::self();
  using Catch::Matchers::Contains;
  for (int n : {2, 6}) {
    INFO("columns " << n);
    CHECK_THROWS_AS(chi0_spectral(table, omega, k, self, {}, n), Error);
    CHECK_THROWS_AS(chi0_direct(table, omega, k, self, n), Error);
  }
  CHECK_THROWS_WITH(chi0_spectral(table, omega, k, self, {}, 6),
                    Contains("6 columns asked for, the table has 5 (need 3..5)"));
  CHECK_THROWS_WITH(chi0_direct(table, omega, k, self, 2),
                    Contains("2 columns asked for, the table has 5 (need 3..5)"));
  CHECK_NOTHROW(chi0_spectral(table, omega, k, self, {}, 3));
  CHECK_NOTHROW(chi0_direct(table, omega, k, self, 3));
  // the binning places a transition by its energy and scales its row by √w: both refused at entry
  auto nan_energy = table;
  nan_energy.energy[7] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(chi0_spectral(nan_energy, omega, k, self), Error);
  CHECK_THROWS_WITH(chi0_spectral(nan_energy, omega, k, self), Contains("transition 7") && Contains("nan"));
  auto inf_energy = table;
  inf_energy.energy[0] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(chi0_spectral(inf_energy, omega, k, self), Error);
  auto negative_weight = table;
  negative_weight.weight[12] = -1e-3;
  CHECK_THROWS_AS(chi0_spectral(negative_weight, omega, k, self), Error);
  CHECK_THROWS_WITH(chi0_spectral(negative_weight, omega, k, self), Contains("transition 12") && Contains("-0.001"));
  auto nan_weight = table;
  nan_weight.weight[39] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(chi0_spectral(nan_weight, omega, k, self), Error);
}

TEST_CASE("directions: the trace is the mean of x, y, z, and a vector's length does not matter", "[unit]") {
  const auto table = test::synthetic_table(300, 4, 9);
  const auto omega = grid_Ha(0.0, 10.0, 21);
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  const auto r = solve_dyson(chi0_direct(table, omega, k, Comm::self()), test::synthetic_coulomb(4), 4, Comm::self());
  const auto x = r.eps({1, 0, 0}, true), y = r.eps({0, 1, 0}, true), z = r.eps({0, 0, 1}, true);
  const auto tr = r.eps_trace(true);
  const auto a = r.eps({1, 1, 1}, true), b = r.eps({3, 3, 3}, true);
  for (std::size_t i = 0; i < omega.size(); ++i) {
    CHECK(std::abs(tr[i] - (x[i] + y[i] + z[i]) / 3.0) < 1e-12 * std::abs(tr[i]));
    CHECK(std::abs(a[i] - b[i]) < 1e-12 * std::abs(a[i]));
  }
  CHECK(parse_field_direction("trace").trace);
  CHECK(parse_field_direction("Y").q == Eigen::Vector3d(0, 1, 0));
  CHECK(parse_field_direction("1,1,1").name == "q_1_1_1");
  CHECK_THROWS_AS(parse_field_direction("0,0,0"), Error);
  CHECK_THROWS_AS(parse_field_direction("up"), Error);
}

TEST_CASE("G block: a nearly cubic cell gives shells no wider than the tolerance, sorted by |G|", "[unit]") {
  // a = 10.2000, 10.2001, 10.2002 bohr: the three |b_i| differ by about 6e-6 pairwise and 1.2e-5 end to end, so
  // "equal within 1e-5" does not chain consistently (the earlier sort used it as its comparator)
  Eigen::Matrix3d b = Eigen::Matrix3d::Zero();
  b(0, 0) = units::two_pi / 10.2000;
  b(1, 1) = units::two_pi / 10.2001;
  b(2, 2) = units::two_pi / 10.2002;
  const GBlock sphere = closed_shells(b, units::Ry_to_Ha(12.0));
  REQUIRE(sphere.size() > 100);
  std::size_t start = 0;
  double previous_max = -1, previous_min = -1;
  for (std::size_t end : sphere.shell_end) {
    const auto [lo, hi] = std::minmax_element(sphere.norm.begin() + long(start), sphere.norm.begin() + long(end));
    CHECK(*hi - *lo <= 1e-5);          // a shell spans at most the tolerance
    CHECK(*lo >= previous_max);        // shells in order of |G|, none interleaved
    CHECK(*lo - previous_min > 1e-5);  // a new shell starts beyond the tolerance of the previous one's smallest
    previous_max = *hi, previous_min = *lo;
    start = end;
  }
  CHECK(sphere.shell_end.back() == sphere.size());
  CHECK(sphere.norm[0] == 0);
}

TEST_CASE("G block: fcc shells 1, 9, 15, 27, 51, 59, 65, 89, 113 and YAMBO's rounding rules", "[unit]") {
  const double alat = 10.26;
  Eigen::Matrix3d b;  // fcc reciprocal vectors (2π/alat)(-1,-1,1) ...
  b << -1, -1, 1, 1, 1, 1, -1, 1, -1;
  b *= units::two_pi / alat;
  const double ecut = units::Ry_to_Ha(20.0);
  const GBlock sphere = closed_shells(b, ecut);
  const std::vector<std::size_t> expect{1, 9, 15, 27, 51, 59, 65, 89, 113};
  for (std::size_t s = 0; s < expect.size(); ++s) CHECK(sphere.shell_end[s] == expect[s]);
  const auto block = [&](const std::string& t) { return select_gblock(b, GBlockRequest::parse(t), ecut, "si.save").size(); };
  CHECK(block("1") == 1);
  CHECK(block("27") == 27);
  CHECK(block("28") == 51);           // rounded up to the end of the shell
  CHECK(block("59RL") == 59);
  CHECK(block("3Ry") == 27);          // the shell at 3.0 Ry is included
  CHECK(block("4000mRy") == 51);      // first shell at or above 4 Ry is 4.125 Ry
  CHECK(block("1.5Ha") == 27);
  CHECK(block("7.5Ry") == 113);
  const GBlock g27 = select_gblock(b, GBlockRequest::parse("27"), ecut, "x");
  CHECK(g27.miller[0] == Eigen::Vector3i::Zero());
  CHECK(g27.coulomb_body().size() == 26);
  CHECK(g27.coulomb_body()[0] == Approx(4 * std::numbers::pi / (3 * std::pow(units::two_pi / alat, 2))));
  // Beyond the wavefunction sphere: bad input (exit code 2) naming the save.
  try {
    block("100000");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()).find("si.save") != std::string::npos);
  }
  CHECK_THROWS_AS(block("30Ry"), Error);
  CHECK_THROWS_AS(GBlockRequest::parse("2parsecs"), Error);
  CHECK_THROWS_AS(GBlockRequest::parse("-3"), Error);
  // a count beyond any sphere (and beyond size_t for 1e20): a usage error naming it, not an overflowing cast
  CHECK(GBlockRequest::parse("1e9").count == 1000000000);
  CHECK_THROWS_AS(GBlockRequest::parse("1e20"), Error);
  CHECK_THROWS_WITH(GBlockRequest::parse("1e20"), Catch::Matchers::Contains("'1e20'"));
  CHECK_THROWS_AS(GBlockRequest::parse("1000000001RL"), Error);
}

TEST_CASE("G-block convergence ladder: blocks E0, 2E0, 4E0 ... of fcc Si, capped", "[unit]") {
  // The same fcc shells as above; shell energies in Ry are |G|² in (2π/alat)² = 0.375 Bohr⁻² units:
  // 9 G: 1.125, 15: 1.5, 27: 3.0, 51: 4.125, 59: 4.5, 65: 6.0, 89: 7.125, 113: 7.5, 137: 9.0 Ry.
  const double alat = 10.26;
  Eigen::Matrix3d b;
  b << -1, -1, 1, 1, 1, 1, -1, 1, -1;
  b *= units::two_pi / alat;
  const GBlock cap113 = select_gblock(b, GBlockRequest::of_count(113), units::Ry_to_Ha(20.0), "si.save");
  ConvergenceOptions o;  // E0 = 4 Ry: the first shell at or above it is 51 G (4.125 Ry); twice that, 8.25 Ry,
                         // lies beyond the cap of 113
  CHECK(convergence_ladder(cap113, o) == std::vector<std::size_t>{51, 113});
  const GBlock cap20 = closed_shells(b, units::Ry_to_Ha(20.0));
  const auto wide = convergence_ladder(cap20, o);
  REQUIRE(wide.size() >= 2);
  CHECK(wide[1] == 137);  // 8.25 Ry: the (422) shell at 9.0 Ry closes at 137 vectors
  o.start = GBlockRequest::parse("2Ry");  // 27 G (3.0 Ry), 6.0 Ry -> 65 G, 12 Ry beyond the cap
  CHECK(convergence_ladder(cap113, o) == std::vector<std::size_t>{27, 65, 113});
  CHECK(convergence_ladder(cap20, o)[2] == 181);  // 12 Ry: the (440) shell, |G|² = 32 (2π/alat)², closes at 181
  // A count start is rounded up to its shell; G = 0 alone steps to the first shell: 9 G (1.125 Ry), then
  // 2.25 Ry -> 27 (3.0), 6.0 -> 65, 12 -> beyond the cap
  o.start = GBlockRequest::of_count(1);
  CHECK(convergence_ladder(cap113, o) == std::vector<std::size_t>{1, 9, 27, 65, 113});
  o.start = GBlockRequest::parse("4Ry");
  // a cap below the start leaves one block: nothing to compare
  const GBlock cap15 = select_gblock(b, GBlockRequest::of_count(15), units::Ry_to_Ha(20.0), "si.save");
  CHECK(convergence_ladder(cap15, o) == std::vector<std::size_t>{15});
}

TEST_CASE("G-block convergence: a near next block is built at once and serves both rungs", "[unit]") {
  // an orthorhombic cell: small shells (2 to 8 vectors), so some cap lies just above a ladder block (the fcc
  // shells jump too far for that)
  Eigen::Matrix3d b = Eigen::Vector3d(1.0, 1.1, 1.3).asDiagonal();
  b *= units::two_pi / 10.0;
  ConvergenceOptions o;
  o.enabled = true;
  o.sc_threshold = 1 - 1e-12;  // never converged: every rung is evaluated
  o.start = GBlockRequest::of_count(1);
  // a cap whose ladder ends with a step of at most 1.5× the cost (N_G²): the last two rungs share one chi0
  GBlock cap;
  std::vector<std::size_t> ladder;
  for (std::size_t n = 20; n < 400 && cap.size() == 0; ++n) {
    const GBlock c = select_gblock(b, GBlockRequest::of_count(n), units::Ry_to_Ha(40.0), "si.save");
    const auto l = convergence_ladder(c, o);
    if (l.size() >= 3 && double(l.back()) * double(l.back()) <= 1.5 * double(l[l.size() - 2]) * double(l[l.size() - 2]))
      cap = c, ladder = l;
  }
  REQUIRE(cap.size() > 0);
  const auto table = test::synthetic_table(150, static_cast<int>(cap.size()) - 1, 11);
  const auto omega = grid_Ha(0.0, 10.0, 41);
  std::vector<double> omega_eV;
  for (double w : omega) omega_eV.push_back(units::Ha_to_eV(w));
  const FrequencyKernel k(BroadeningShape::lorentz, Ordering::time_ordered, units::eV_to_Ha(0.3));
  std::vector<std::size_t> built;
  const Chi0Builder build = [&](const GBlock& g) {
    built.push_back(g.size());
    return chi0_direct(table, omega, k, Comm::self(), 3 + static_cast<int>(g.size()) - 1);
  };
  const auto result = converge_gblock(cap, build, omega_eV, o, Comm::self());
  REQUIRE(result.history.size() == ladder.size());
  // one chi0 per rung except the last, whose block the rung before it built
  CHECK(result.chi0_builds == ladder.size() - 2);
  CHECK(built.back() == ladder.back());
  CHECK(std::find(built.begin(), built.end(), ladder[ladder.size() - 2]) == built.end());
  // the second-to-last rung, read from the larger chi0, is what its own chi0 gives
  const std::size_t n = ladder[ladder.size() - 2];
  const Chi0 own = chi0_direct(table, omega, k, Comm::self(), 3 + static_cast<int>(n) - 1);
  const auto r = solve_dyson(own, cap.coulomb_body(), static_cast<int>(n) - 1, Comm::self());
  std::vector<double> im;
  for (auto e : r.eps_trace(true)) im.push_back(e.imag());
  std::vector<double> ipa;
  for (auto e : r.eps_trace(false)) ipa.push_back(e.imag());
  CHECK(result.history[ladder.size() - 2].sc_ipa_rpa ==
        Approx(similarity_coefficient(omega_eV, im, ipa)).epsilon(1e-10));
}
