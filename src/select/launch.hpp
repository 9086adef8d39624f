#pragma once
// Launching the next rung after a decision: the native RPA (with G-block convergence) or a YAMBO
// run (inputs + command lines, run when p2y/yambo are on PATH). Returns the "launch" entry of the
// decision log.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "select/selection.hpp"

namespace rung::select {

enum class LaunchMode { none, native, yambo };
LaunchMode parse_launch_mode(const std::string& s);  // "none" | "native" | "yambo", else fail_usage
std::string to_string(LaunchMode m);

struct LaunchOptions {
  LaunchMode mode = LaunchMode::none;
  std::filesystem::path outdir = "rung-select";  // native spectra and YAMBO inputs go below it
  // Both launches use the same G block: this fixed cut-off (Ry) when given; otherwise rung's --converge
  // rule (blocks E, 2E, ... from 4 Ry up to 300 G until SC >= 0.99 on x, y, z), which the YAMBO script
  // follows on the same closed-shell blocks.
  std::optional<double> block_cutoff_Ry;
  std::string rung_executable = "rung";          // what a YAMBO script calls to compare blocks
  bool progress = false;
};

// Runs what `options` asks for `in` if `decision` launches the RPA. Never throws: an input that cannot
// be launched (a structure file, a save without empty bands) gets status "skipped", a launch that fails
// status "failed", each with a message; the caller keeps the decision either way. `predicted_sc`, when
// given, is compared with the launched run's SC(IPA, RPA).
nlohmann::json launch_rpa(const SelectInput& in, Decision decision, const LaunchOptions& options,
                          std::optional<double> predicted_sc = std::nullopt);

}  // namespace rung::select
