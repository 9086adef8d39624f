#include "select/policy.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rung::select {

std::string to_string(Decision d) {
  switch (d) {
    case Decision::ipa_sufficient: return "ipa-sufficient";
    case Decision::rpa_needed: return "rpa-needed";
    case Decision::uncertain: return "uncertain";
  }
  return "uncertain";
}

Decision decision_from_string(const std::string& s) {
  if (s == "ipa-sufficient") return Decision::ipa_sufficient;
  if (s == "rpa-needed") return Decision::rpa_needed;
  if (s == "uncertain") return Decision::uncertain;
  fail_usage("unknown decision '" + s + "' (expected ipa-sufficient, rpa-needed or uncertain)");
}

void PolicyOptions::validate() const {
  if (!std::isfinite(threshold) || threshold > 1.0)
    fail_usage(fmt::format("the SC threshold must be a finite number <= 1, not {}", threshold));
  if (!std::isfinite(spread_factor) || spread_factor < 0.0)
    fail_usage(fmt::format("the spread factor must be >= 0, not {}", spread_factor));
  if (!std::isfinite(max_spread) || max_spread <= 0.0)
    fail_usage(fmt::format("the largest acceptable spread must be > 0, not {}", max_spread));
}

namespace {

// The policy on an SC with the half-widths of its interval below and above it.
PolicyResult decide_on(double sc, double below, double above, const PolicyOptions& o) {
  o.validate();
  if (!std::isfinite(sc)) fail(fmt::format("the predictor returned a non-finite SC ({})", sc));
  PolicyResult r;
  r.lower = sc - o.spread_factor * below;
  r.upper = std::min(1.0, sc + o.spread_factor * above);  // SC cannot exceed 1, however wide the interval
  const double half = std::max(below, above);
  if (half > o.max_spread) {
    r.decision = Decision::uncertain;
    r.reason = fmt::format("the interval's half-width {:.3f} exceeds {:.3f}: the evidence is not informative, "
                           "run the RPA", half, o.max_spread);
  } else if (r.lower >= o.threshold) {
    r.decision = Decision::ipa_sufficient;
    r.reason = fmt::format("SC(IPA,RPA) >= {:.3f} even at the low end ({:.3f}): the RPA would change the "
                           "spectrum too little to pay for itself", o.threshold, r.lower);
  } else if (r.upper < o.threshold) {
    r.decision = Decision::rpa_needed;
    r.reason = fmt::format("SC(IPA,RPA) < {:.3f} even at the high end ({:.3f}): local fields change the "
                           "spectrum, run the RPA", o.threshold, r.upper);
  } else {
    r.decision = Decision::uncertain;
    r.reason = fmt::format("SC(IPA,RPA) in [{:.3f}, {:.3f}] straddles the threshold {:.3f}: run the RPA to "
                           "be safe", r.lower, r.upper, o.threshold);
  }
  return r;
}

}  // namespace

PolicyResult decide(double sc, double spread, const PolicyOptions& o) {
  if (!std::isfinite(spread) || spread < 0.0)
    fail(fmt::format("the predictor returned an invalid SC spread ({})", spread));
  return decide_on(sc, spread, spread, o);
}

PolicyResult decide(const Evidence& e, const PolicyOptions& o) {
  if (!std::isfinite(e.lower) || !std::isfinite(e.upper) || e.lower > e.sc || e.upper < std::min(e.sc, 1.0))
    fail(fmt::format("invalid SC interval [{}, {}] around {}", e.lower, e.upper, e.sc));
  // rung's intervals are symmetric before their cap at 1: a capped one is scaled (--spread-factor) from its
  // half-width below, not from what the cap left above (0.995 +/- 0.0102 at factor 0.5 reaches 1, not 0.9975); an
  // SC above 1 (a caller's) has no room above it
  const double above =
      e.upper >= 1.0 && e.sc <= 1.0 ? std::max(e.upper - e.sc, e.sc - e.lower) : std::max(0.0, e.upper - e.sc);
  return decide_on(e.sc, e.sc - e.lower, above, o);
}

}  // namespace rung::select
