// The processing that makes predicted spectra physical (ml/spectrum_output.hpp) and the training-domain
// check (ml/training_domain.hpp). Torch-free.
#include "core/error.hpp"
#include "core/units.hpp"
#include "ml/spectrum_output.hpp"
#include "ml/training_domain.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace rung;
using namespace rung::ml;

namespace {
std::vector<double> paper_grid() {
  std::vector<double> e(2001);
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = 0.01 * double(i);
  return e;
}
}  // namespace

TEST_CASE("output processing: non-negative, smooth, of the stated width, and raw leaves the output alone",
          "[unit][ml][output]") {
  const auto e = paper_grid();
  // A rough, partly negative "prediction": a peak, a negative dip and point-to-point noise of ±0.3.
  std::vector<double> raw(e.size());
  for (std::size_t i = 0; i < e.size(); ++i)
    raw[i] = 3 * std::exp(-std::pow(e[i] - 6, 2)) - 0.5 * std::exp(-std::pow(e[i] - 15, 2) / 0.1) + (i % 2 ? 0.3 : -0.3);
  const auto p = process_spectrum(e, raw, default_output_processing());
  CHECK(*std::min_element(p.begin(), p.end()) >= 0.0);
  // Alternating ±0.3 noise is removed almost entirely by the 0.3 eV (30-point) Gaussian: roughness
  // (RMS second difference / RMS value) drops by orders of magnitude.
  INFO("roughness raw " << roughness(raw) << ", processed " << roughness(p));
  CHECK(roughness(p) < 1e-2 * roughness(raw));
  CHECK(process_spectrum(e, raw, OutputProcessing::raw()) == raw);

  // The kernel's width: a single point becomes a Gaussian of FWHM 0.2 eV (±1 grid step, 0.01 eV,
  // from locating the half maximum on the grid), and the area is kept (renormalised kernel).
  std::vector<double> delta(e.size(), 0.0);
  delta[1000] = 1;
  const auto g = process_spectrum(e, delta, {true, 0.2});
  const double peak = *std::max_element(g.begin(), g.end());
  std::size_t lo = 1000, hi = 1000;
  while (g[lo - 1] >= peak / 2) --lo;
  while (g[hi + 1] >= peak / 2) ++hi;
  CHECK(std::abs(0.01 * double(hi - lo) - 0.2) <= 0.011);
  double sum = 0;
  for (double x : g) sum += x;
  CHECK(sum == Approx(1.0).margin(1e-12).epsilon(0));
  // A constant stays constant up to the grid's ends (the kernel is renormalised where it is cut off).
  const auto c = process_spectrum(e, std::vector<double>(e.size(), 2.5), {true, 0.3});
  for (double x : c) REQUIRE(x == Approx(2.5).margin(1e-12).epsilon(0));
  CHECK_THROWS_AS(process_spectrum(e, std::vector<double>(10, 1.0), {}), Error);
  // a non-finite value is refused with its energy, with or without processing, never spread over its neighbours
  auto bad = std::vector<double>(e.size(), 1.0);
  bad[100] = std::nan("");
  CHECK_THROWS_WITH(process_spectrum(e, bad, {true, 0.3}), Catch::Contains("nan at 1 eV (point 101"));
  bad[100] = INFINITY;
  CHECK_THROWS_WITH(process_spectrum(e, bad, OutputProcessing::raw()), Catch::Contains("inf at 1 eV"));
}

TEST_CASE("training domain: unseen elements and larger cells are named, JSON round trip", "[unit][ml][output]") {
  Structure nacl;
  nacl.lattice = Eigen::Matrix3d::Identity() * units::Ang_to_Bohr(5.6);
  nacl.frac = {{0, 0, 0}, {0.5, 0.5, 0.5}};
  nacl.numbers = {11, 17};
  Structure si = nacl;
  si.numbers = {14, 14};
  TrainingDomain d;
  d.add(nacl);
  d.add(si);
  CHECK(d.max_atoms == 2);
  CHECK(d.structures == 2);
  CHECK(domain_warnings(d, nacl).empty());

  Structure gaas = nacl;  // Ga and As never seen
  gaas.numbers = {31, 33};
  auto w = domain_warnings(d, gaas);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Matchers::Contains("Ga, As"));
  Structure big = si;  // 3 atoms: more than any training cell
  big.frac.push_back({0.25, 0.25, 0.25});
  big.numbers.push_back(14);
  w = domain_warnings(d, big);
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Matchers::Contains("3 atoms"));

  const auto back = TrainingDomain::from_json(d.to_json(), "model.h5");
  CHECK(back.elements == d.elements);
  CHECK(back.max_atoms == 2);
  CHECK(d.to_json()["elements"] == nlohmann::json({"Na", "Si", "Cl"}));
  try {
    TrainingDomain::from_json({{"elements", {"Qq"}}, {"max_atoms", 2}}, "model.h5");
    FAIL("accepted an unknown element");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("model.h5"));
  }
  CHECK_THROWS_AS(TrainingDomain::from_json({{"elements", "Na"}}, "model.h5"), Error);
}
