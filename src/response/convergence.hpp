#pragma once
// `--converge`: grow the local-field G block until the spectrum stops changing. The oscillators and chi0 are
// computed ONCE for the largest candidate block; every smaller block is the leading sub-block (shells are
// sorted by |G|), so each candidate costs only its Dyson solves. Candidates are the closed shells (or one
// per `step` of shell energy); the sweep stops at the first block whose Im ε (first requested direction)
// agrees with the previous candidate's to SC ≥ the threshold. Shells that change nothing at all (1 − SC < 1e-9,
// e.g. the (200) shell of diamond Si, whose oscillators cancel by symmetry) do not count as convergence:
// the sweep moves on to the next shell. (The seed paper stepped 2000 mRy at a time
// until SC > 0.9, recomputing everything each time.)
#include <optional>
#include <vector>

#include "core/parallel.hpp"
#include "response/chi0.hpp"
#include "response/dyson.hpp"
#include "response/field_direction.hpp"
#include "response/gblock.hpp"

namespace rung::response {

struct ConvergenceOptions {
  bool enabled = false;
  double sc_threshold = 0.99;
  std::optional<GBlockRequest> step;                       // default: every closed shell
  GBlockRequest max_block = GBlockRequest::of_count(300);  // largest candidate (rounded up to a shell)
};

struct ConvergenceStep {
  std::size_t n_g = 0;
  double shell_energy_Ry = 0;
  std::optional<double> sc_vs_previous;  // absent for the first candidate
  bool inert = false;                    // the shell changed nothing (1 - SC < 1e-9): it does not end the sweep
};

struct ConvergenceResult {
  std::size_t n_g = 1;                   // chosen block
  bool converged = false;
  std::vector<ConvergenceStep> history;
  MacroscopicResponse response;          // of the chosen block
};

// Candidate block sizes (shell ends of `block`, thinned to one per `step` of shell energy).
std::vector<std::size_t> convergence_candidates(const GBlock& block, const std::optional<GBlockRequest>& step);

ConvergenceResult converge_gblock(const Chi0& chi_max, const GBlock& max_block, const FieldDirection& direction,
                                  const std::vector<double>& omega_eV, const ConvergenceOptions& options,
                                  const Comm& comm);

}  // namespace rung::response
