#pragma once
// `--converge`: choose the local-field G block by comparing blocks far apart in energy. Blocks are closed
// shells selected by shell energy as YAMBO does (gblock.hpp); the ladder starts at the block of E0 (4 Ry by
// default), and each next block is the first closed shell at or above twice the previous block's shell energy,
// up to the largest allowed block. The block kept is therefore never below about 8 Ry: starting at 2 Ry (where
// the seed paper's own sweep started) let rock-salt NaF and fcc Ne stop at 27 G, whose spectra agree with an
// 8 Ry block to only SC 0.985 and 0.983 (doc/dataset.md, "Converged labels"). At each rung
// the spectrum of block E is compared with the one of block 2·E on every Cartesian direction (x, y and z:
// in a low-symmetry cell a shell may leave x unchanged and move z); the sweep stops at the first pair whose
// smallest SC reaches the threshold and keeps the LARGER block of the pair. Comparing neighbouring shells
// instead is fooled by a shell that changes little or nothing (e.g. the (200) shell of diamond Si, whose
// oscillators cancel by symmetry), which used to end sweeps at a few G-vectors with an IPA-like RPA; doc/solver.md
// ("G-block convergence") has the measurements.
//
// Cost: chi0 of block 2·E is built from scratch at each rung (Chi0Builder); block E is its leading sub-block,
// so every rung costs one chi0 and one Dyson solve. When the next rung's block is at most 1.5× as costly (the
// cap is near: 283 then 307 G), the larger one is built at once and serves both rungs. With chi0 ∝ N_G² and N_G ∝ E^{3/2}, the earlier rungs add
// about 1/8 + 1/64 + ... of the last one's chi0 time: the whole sweep costs well under twice a fixed run of
// the chosen block. The first chi0 also yields cheap "probe" points, SC(IPA, RPA) of a few small blocks, that
// the selection's probe correction learns from (doc/selection.md).
#include <array>
#include <functional>
#include <optional>
#include <vector>

#include "core/parallel.hpp"
#include "response/chi0.hpp"
#include "response/dyson.hpp"
#include "response/gblock.hpp"

namespace rung::response {

struct ConvergenceOptions {
  bool enabled = false;
  double sc_threshold = 0.99;                                // smallest SC(block E, block 2E) over x, y, z
  GBlockRequest start = GBlockRequest::parse("4Ry");         // E0: the smallest block of the ladder
  GBlockRequest max_block = GBlockRequest::of_count(300);    // largest block (rounded up to a shell; capped by the sphere)
};

// 1 - SC below which a step changed nothing (ConvergenceStep::inert): two blocks from different chi0 builds differ
// by their single-precision rounding, 1 - SC ~ 1e-8 to 1e-7, where nothing changed. rung's YAMBO ladder applies
// the same rule to YAMBO's o- files (7 significant digits), select/yambo_launch.cpp.
inline constexpr double unchanged_tolerance = 1e-6;

struct ConvergenceStep {
  std::size_t n_g = 0;
  double shell_energy_Ry = 0;
  std::optional<double> sc_vs_previous;       // min over x, y, z of SC(this block, previous rung); absent for the first
  std::optional<std::array<double, 3>> sc_xyz;  // the three of them
  double sc_ipa_rpa = 1;                      // SC(IPA trace, this block's RPA trace), IPA as the reference
  bool inert = false;                         // nothing changed (1 - SC < 1e-6 on x, y, z): never ends the sweep
};

// SC(IPA, RPA) of a small block, from the first rung's chi0 at no extra chi0 cost.
struct ProbePoint {
  std::size_t n_g = 0;
  double shell_energy_Ry = 0;
  double sc_ipa_rpa = 1;
};

struct ConvergenceResult {
  std::size_t n_g = 1;                   // chosen block
  bool converged = false;
  std::vector<ConvergenceStep> history;  // one per rung of the ladder that was evaluated
  std::vector<ProbePoint> probes;
  std::size_t chi0_builds = 0;
  MacroscopicResponse response;          // of the chosen block
};

// Block sizes of the ladder: the closed-shell block of E0, then each time the first shell at or above twice the
// previous block's shell energy (strictly increasing), the last one capped at cap.size(). A single entry means
// the cap leaves nothing to compare.
std::vector<std::size_t> convergence_ladder(const GBlock& cap, const ConvergenceOptions& options);

// Builds chi0 over the given block (its oscillators and spectral function): called once per rung.
using Chi0Builder = std::function<Chi0(const GBlock&)>;

ConvergenceResult converge_gblock(const GBlock& cap, const Chi0Builder& build, const std::vector<double>& omega_eV,
                                  const ConvergenceOptions& options, const Comm& comm);

}  // namespace rung::response
