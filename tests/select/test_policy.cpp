// The selection policy is pure logic: checked exhaustively over a grid of SC, spread, threshold,
// spread factor and largest spread, against its defining properties, plus hand-worked cases.
#include "core/error.hpp"
#include "select/policy.hpp"
#include "support/paths.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace rung::select;

namespace {
int rank(Decision d) { return d == Decision::rpa_needed ? 0 : d == Decision::uncertain ? 1 : 2; }
}  // namespace

TEST_CASE("policy: hand-worked decisions", "[unit][select][policy]") {
  PolicyOptions o;  // threshold 0.9, factor 1, max spread 0.1
  CHECK(decide(0.95, 0.02, o).decision == Decision::ipa_sufficient);  // [0.93, 0.97] above 0.9
  CHECK(decide(0.70, 0.05, o).decision == Decision::rpa_needed);      // [0.65, 0.75] below
  CHECK(decide(0.91, 0.02, o).decision == Decision::uncertain);       // [0.89, 0.93] straddles
  CHECK(decide(0.99, 0.15, o).decision == Decision::uncertain);       // spread above 0.1
  CHECK(decide(0.90, 0.0, o).decision == Decision::ipa_sufficient);   // the threshold itself is sufficient
  CHECK(decide(0.8999999, 0.0, o).decision == Decision::rpa_needed);
  const auto r = decide(0.8, 0.05, o);
  CHECK(r.lower == Approx(0.75));
  CHECK(r.upper == Approx(0.85));
  CHECK_FALSE(r.reason.empty());
  o.spread_factor = 2;  // [0.86, 0.94] now straddles 0.9
  CHECK(decide(0.90, 0.02, o).decision == Decision::uncertain);
  CHECK(decide(0.95, 0.02, o).decision == Decision::ipa_sufficient);  // [0.91, 0.99]
}

TEST_CASE("policy: exhaustive grid obeys the defining properties", "[unit][select][policy]") {
  // 1.5 million combinations: counted with plain comparisons (one Catch assertion at the end keeps
  // the sanitizer build fast); the first violation is reported.
  std::size_t checked = 0, violations = 0;
  std::string first;
  const auto expect = [&](bool ok, const char* what, double sc, double spread, const PolicyOptions& o) {
    if (ok) return;
    if (violations++ == 0)
      first = std::string(what) + " at sc=" + std::to_string(sc) + " spread=" + std::to_string(spread) +
              " threshold=" + std::to_string(o.threshold) + " factor=" + std::to_string(o.spread_factor) +
              " max_spread=" + std::to_string(o.max_spread);
  };
  for (double threshold : {-0.2, 0.5, 0.8, 0.9, 0.95, 1.0})
    for (double factor : {0.0, 0.5, 1.0, 2.0, 3.0})
      for (double max_spread : {0.01, 0.05, 0.1, 0.3}) {
        PolicyOptions o{threshold, factor, max_spread};
        for (int is = 0; is <= 60; ++is) {
          const double spread = 0.005 * is;
          int previous = -1;
          for (int ic = -100; ic <= 100; ++ic) {
            const double sc = 0.01 * ic;
            const auto r = decide(sc, spread, o);
            const double lo = sc - factor * spread, hi = std::min(1.0, sc + factor * spread);  // SC <= 1
            // The definition, case by case.
            const Decision want = spread > max_spread ? Decision::uncertain
                                  : lo >= threshold   ? Decision::ipa_sufficient
                                  : hi < threshold    ? Decision::rpa_needed
                                                      : Decision::uncertain;
            expect(r.decision == want, "definition", sc, spread, o);
            expect(std::abs(r.lower - lo) < 1e-15 && std::abs(r.upper - hi) < 1e-15, "interval", sc, spread, o);
            // Monotone in SC: a higher SC never asks for more theory.
            expect(rank(r.decision) >= previous, "monotone in SC", sc, spread, o);
            previous = rank(r.decision);
            // A larger spread never makes the decision more confident.
            const auto wider = decide(sc, spread + 0.01, o);
            expect(wider.decision == r.decision || wider.decision == Decision::uncertain, "spread", sc, spread, o);
            // Without uncertainty the decision is the plain threshold test.
            if (spread == 0.0)
              expect(r.decision == (sc >= threshold ? Decision::ipa_sufficient : Decision::rpa_needed), "no spread",
                     sc, spread, o);
            expect(launches_rpa(r.decision) == (r.decision != Decision::ipa_sufficient), "launch", sc, spread, o);
            ++checked;
          }
        }
      }
  INFO(first);
  CHECK(violations == 0);
  CHECK(checked == 6u * 5u * 4u * 61u * 201u);
}

TEST_CASE("policy: names round-trip, bad values are errors", "[unit][select][policy]") {
  for (auto d : {Decision::ipa_sufficient, Decision::rpa_needed, Decision::uncertain})
    CHECK(decision_from_string(to_string(d)) == d);
  CHECK(to_string(Decision::ipa_sufficient) == "ipa-sufficient");
  CHECK_THROWS_AS(decision_from_string("maybe"), rung::Error);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  PolicyOptions o;
  // A broken predictor is a runtime error, not the user's input.
  try {
    decide(nan, 0.01, o);
    FAIL("NaN SC accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::runtime);
  }
  CHECK_THROWS_AS(decide(0.9, -0.01, o), rung::Error);
  CHECK_THROWS_AS(decide(0.9, nan, o), rung::Error);
  CHECK_THROWS_AS(decide(INFINITY, 0.0, o), rung::Error);
  // Bad options are usage errors.
  for (PolicyOptions bad : {PolicyOptions{1.5, 1, 0.1}, PolicyOptions{nan, 1, 0.1}, PolicyOptions{0.9, -1, 0.1},
                            PolicyOptions{0.9, 1, 0.0}, PolicyOptions{0.9, 1, -0.1}}) {
    try {
      decide(0.9, 0.01, bad);
      FAIL("bad options accepted");
    } catch (const rung::Error& e) {
      CHECK(e.kind() == rung::ErrorKind::usage);
    }
  }
}
