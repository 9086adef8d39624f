#pragma once
// `rung select --launch yambo`: the YAMBO input for the RPA with local fields (`yambo -o c -k hartree`)
// with the parameters rung would choose, and the p2y / yambo command lines that run it.
// The layout follows real YAMBO 5.2.4 inputs, the reference data in ../shared (not part of the repository:
// ../shared/reference/yambo-5.2.4/Si/yambo_sp), and the paper's protocol (doc/selection.md, Launching): q -> 0,
// 0-20 eV in 2001 steps, 0.3 eV damping, time-ordered, all bands of the save.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "core/structure.hpp"
#include "core/paper.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

struct YamboOptions {
  // The fixed G block of the Hartree kernel when `blocks_g` is empty: rung's block for this cut-off (closed shells,
  // as --gblock <E>Ry), written to NGsBlkXd as its G count (YAMBO would read a Ry value as an integer)
  double block_cutoff_Ry = 4.0;
  // The G-block ladder (counts, closed shells) the script runs in order until two successive blocks agree
  // to `converge_sc` on every direction: the native solver's --converge rule, on the same blocks. Empty:
  // the one fixed block above.
  std::vector<std::size_t> blocks_g;
  double converge_sc = 0.99;
  std::string rung_executable = "rung";  // what the script calls to compare successive blocks
  double emin_eV = paper::emin_eV, emax_eV = paper::emax_eV;
  int steps = int(paper::steps);
  double broadening_eV = paper::broadening_eV;
  int band_first = 1, band_last = 0;  // 0: all bands of the save
};

// Independent diagonal components of the dielectric tensor, from the point group of the run:
// cubic -> {x}; uniaxial (two equal eigenvalues of the symmetrised tensor) -> {x, z} or the two
// inequivalent axes; otherwise {x, y, z}. Rotations are Cartesian (as in qe::SymmetryOp::rotation_cart).
std::vector<std::array<int, 3>> field_directions(const std::vector<Eigen::Matrix3d>& rotations_cart);

struct YamboJob {
  std::string name;                 // e.g. "rung_rpa_x" or, on a ladder, "rung_rpa_x_59G"
  std::filesystem::path input;      // the written .in file
  std::filesystem::path output;     // the o- file YAMBO writes for it (o-<name>.eps_q1_inv_rpa_dyson)
  std::array<int, 3> direction{1, 0, 0};
  int multiplicity = 1;             // how many of x, y, z it stands for (the trace's weight)
  std::size_t block_g = 0;          // the job's G block (a ladder's block, or the fixed one)
};

struct YamboPlan {
  std::filesystem::path workdir;    // where yambo runs and SAVE lives (never the user's prefix.save)
  std::vector<YamboJob> jobs;
  std::vector<std::string> commands;  // shell command lines in order (a ladder adds its loop to the script)
  std::vector<std::size_t> ladder;  // the G blocks of a converging run
  std::size_t fixed_block_g = 0;    // the fixed block's G count (0 on a ladder)
  std::filesystem::path script;     // run_yambo.sh
  std::filesystem::path block_file; // <workdir>/rung_converged_block: the block the script ended on
  std::filesystem::path log;        // <workdir>/rung_yambo.log: what run_yambo_plan's run writes
  bool runs_p2y = true;             // false for a YAMBO SAVE as the input (its databases are linked instead)
};

// The text of one input file; `block_g` > 0 writes NGsBlkXd in RL (a G count), else in Ry.
std::string yambo_rpa_input(const YamboOptions& o, int band_last, const std::array<int, 3>& direction,
                            std::size_t block_g = 0);

// field_directions with the number of Cartesian axes each stands for (they sum to 3).
std::vector<std::pair<std::array<int, 3>, int>> field_directions_weighted(const std::vector<Eigen::Matrix3d>& rotations_cart);

// Writes the inputs and run_yambo.sh into `outdir` (created), for the QE save `save`.
YamboPlan write_yambo_plan(const qe::Save& save, const std::filesystem::path& outdir, const YamboOptions& o);

// Runs the plan's script if p2y (when the plan runs it) and yambo are on PATH; returns false (and runs nothing)
// otherwise. Output of the programs goes to plan.log (every command as `sh -x` traces it, and the exit
// status of a p2y, yambo or rung step that fails), never to rung's stdout; a failing step stops the script and
// is a runtime error naming the log.
bool run_yambo_plan(const YamboPlan& plan);
// Whether the programs the plan runs (p2y when it runs it, yambo) are on PATH.
bool yambo_on_path(const YamboPlan& plan);

// What a finished plan produced: the o- files of the block it ended on, Im eps of the trace with and
// without local fields from them, SC(IPA, RPA) (IPA as the reference), the block. fail_input naming the
// missing file when YAMBO wrote nothing.
struct YamboResult {
  std::vector<std::filesystem::path> outputs;
  std::size_t block_g = 0;
  bool converged = false;  // the ladder found an agreeing pair (false for a fixed block: nothing was compared)
  double sc_ipa_rpa = 0;
};
YamboResult read_yambo_result(const YamboPlan& plan);

// Full path of `program` on $PATH, or empty.
std::filesystem::path find_on_path(const std::string& program);

}  // namespace rung::select
