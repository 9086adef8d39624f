#pragma once
// Launching the next rung after a decision: the native RPA (with G-block convergence) or a YAMBO
// run (inputs + command lines, run when p2y/yambo are on PATH). Returns the "launch" entry of the
// decision log.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "select/selection.hpp"

namespace rung::select {

enum class LaunchMode { none, native, yambo };
LaunchMode parse_launch_mode(const std::string& s);  // "none" | "native" | "yambo", else fail_usage
std::string to_string(LaunchMode m);

struct LaunchOptions {
  LaunchMode mode = LaunchMode::none;
  std::filesystem::path outdir = "rung-select";  // native spectra and YAMBO inputs go below it
  double block_cutoff_Ry = 4.0;                  // YAMBO's NGsBlkXd
  bool progress = false;
};

// Runs what `options` asks for `in` if `decision` launches the RPA; never throws for "cannot launch
// this input" (structure files have no ground state): the entry says why instead.
nlohmann::json launch_rpa(const SelectInput& in, Decision decision, const LaunchOptions& options);

}  // namespace rung::select
