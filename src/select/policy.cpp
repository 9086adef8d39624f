#include "select/policy.hpp"

#include "core/error.hpp"

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

PolicyResult decide(double sc, double spread, const PolicyOptions& o) {
  o.validate();
  if (!std::isfinite(sc)) fail(fmt::format("the predictor returned a non-finite SC ({})", sc));
  if (!std::isfinite(spread) || spread < 0.0)
    fail(fmt::format("the predictor returned an invalid SC spread ({})", spread));

  PolicyResult r;
  r.lower = sc - o.spread_factor * spread;
  r.upper = sc + o.spread_factor * spread;
  if (spread > o.max_spread) {
    r.decision = Decision::uncertain;
    r.reason = fmt::format("the ensemble spread {:.3f} exceeds {:.3f}: the prediction is not informative, "
                           "run the RPA", spread, o.max_spread);
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

}  // namespace rung::select
