#pragma once
// The theory-level selection policy: given the predicted similarity SC(IPA, RPA) and its uncertainty
// (the ensemble spread), is the IPA spectrum good enough, or is the RPA run worth its CPU hours?
// Pure logic, no I/O: every branch is tested exhaustively in tests/select/test_policy.cpp.
//
//   interval  [lo, hi] = the evidence's interval (evidence.hpp), its half-widths scaled by z
//                        (for a bare SC and spread: [SC - z·spread, SC + z·spread])
//   half-width > max_spread        -> uncertain      (the evidence does not know: treat as needed)
//   lo >= threshold                -> ipa-sufficient (even the pessimistic SC clears the bar)
//   hi <  threshold                -> rpa-needed     (even the optimistic SC misses it)
//   otherwise                      -> uncertain      (the interval straddles the threshold)
#include <string>

#include "select/evidence.hpp"

namespace rung::select {

enum class Decision { ipa_sufficient, rpa_needed, uncertain };

std::string to_string(Decision d);          // "ipa-sufficient", "rpa-needed", "uncertain"
Decision decision_from_string(const std::string& s);  // inverse; fail_usage on anything else
// Whether the RPA should be run: rpa-needed and uncertain both launch it.
inline bool launches_rpa(Decision d) { return d != Decision::ipa_sufficient; }

struct PolicyOptions {
  // SC(IPA, RPA) at or above which the RPA adds too little to be worth running. 0.9 is the SC the
  // paper's own convergence loops accept as "no change" (doc/selection.md).
  double threshold = 0.9;
  // Scale of the evidence's interval: 1 keeps its stated coverage (for a bare spread: one standard deviation).
  double spread_factor = 1.0;
  // A half-width above this makes the evidence uninformative whatever the SC.
  double max_spread = 0.1;

  // fail_usage unless threshold is finite and <= 1, spread_factor >= 0, max_spread > 0.
  void validate() const;
};

struct PolicyResult {
  Decision decision = Decision::uncertain;
  double lower = 0, upper = 0;  // the interval that was compared with the threshold
  std::string reason;           // one sentence a person can read in the log
};

// `sc` and `spread` come from a predictor; a NaN/Inf SC or a negative/NaN spread is a runtime
// error (rung::fail): the predictor is broken, not the user's input.
PolicyResult decide(double sc, double spread, const PolicyOptions& options);
// The same on an interval: [lower, upper] around sc (capped at 1 above), as the evidence states it.
PolicyResult decide(const Evidence& evidence, const PolicyOptions& options);

}  // namespace rung::select
