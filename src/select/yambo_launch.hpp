#pragma once
// `rung select --launch yambo`: the YAMBO input for the RPA with local fields (`yambo -o c -k hartree`)
// with the parameters rung would choose, and the p2y / yambo command lines that run it.
// The layout follows the team's real YAMBO 5.2.4 inputs (../shared/reference/yambo-5.2.4/Si/yambo_sp)
// and the paper's protocol (doc/selection.md, Launching): q -> 0, 0-20 eV in 2001 steps, 0.3 eV
// damping, time-ordered, all bands of the save.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "core/structure.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

struct YamboOptions {
  double block_cutoff_Ry = 4.0;    // NGsBlkXd (the G block of the Hartree kernel)
  double emin_eV = 0, emax_eV = 20;
  int steps = 2001;
  double broadening_eV = 0.3;
  int band_first = 1, band_last = 0;  // 0: all bands of the save
};

// Independent diagonal components of the dielectric tensor, from the point group of the run:
// cubic -> {x}; uniaxial (two equal eigenvalues of the symmetrised tensor) -> {x, z} or the two
// inequivalent axes; otherwise {x, y, z}. Rotations are Cartesian (as in qe::SymmetryOp::rotation_cart).
std::vector<std::array<int, 3>> field_directions(const std::vector<Eigen::Matrix3d>& rotations_cart);

struct YamboJob {
  std::string name;                 // e.g. "rung_rpa_x"
  std::filesystem::path input;      // the written .in file
  std::array<int, 3> direction{1, 0, 0};
};

struct YamboPlan {
  std::filesystem::path workdir;    // where p2y and yambo run (the prefix.save folder's SAVE parent)
  std::vector<YamboJob> jobs;
  std::vector<std::string> commands;  // shell command lines in order
  std::filesystem::path script;     // run_yambo.sh with those commands
};

// The text of one input file.
std::string yambo_rpa_input(const YamboOptions& o, int band_last, const std::array<int, 3>& direction);

// Writes the inputs and run_yambo.sh into `outdir` (created), for the QE save `save`.
YamboPlan write_yambo_plan(const qe::Save& save, const std::filesystem::path& outdir, const YamboOptions& o);

// Runs the plan's commands if p2y and yambo are on PATH; returns false (and runs nothing) otherwise.
// Output of the programs goes to <workdir>/rung_yambo.log, never to rung's stdout.
bool run_yambo_plan(const YamboPlan& plan, std::string& log_path);

// Full path of `program` on $PATH, or empty.
std::filesystem::path find_on_path(const std::string& program);

}  // namespace rung::select
