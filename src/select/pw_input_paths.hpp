#pragma once
// Where a pw.x run writes its prefix.save: &CONTROL's outdir and prefix, with pw.x's defaults
// (outdir: $ESPRESSO_TMPDIR, else "./"; prefix: "pwscf"). Used by `rung hook` after pw.x finishes.
#include <filesystem>
#include <string>
#include <vector>

namespace rung::select {

struct PwPaths {
  std::string outdir, prefix;
  std::filesystem::path save_dir;  // outdir/prefix.save, relative paths taken from `cwd`
};

// Reads the &CONTROL namelist of the pw.x input `input` (io/qe/pw_input.hpp). fail_input if it is missing or has no
// &CONTROL namelist.
PwPaths pw_paths_from_input(const std::filesystem::path& input, const std::filesystem::path& cwd);
// The same from the input text (for tests); `origin` names the file in errors.
PwPaths pw_paths_from_text(const std::string& text, const std::string& origin, const std::filesystem::path& cwd);

// The input file of a pw.x command line: the argument after -i, -in, -inp or -input (pw.x's flags).
// Empty when there is none (input on stdin).
std::string pw_input_argument(const std::vector<std::string>& command);

}  // namespace rung::select
