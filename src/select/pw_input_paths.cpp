#include "select/pw_input_paths.hpp"

#include "core/error.hpp"
#include "core/text_file.hpp"
#include "io/qe/pw_input.hpp"

#include <cstdlib>

namespace rung::select {

PwPaths pw_paths_from_text(const std::string& text, const std::string& origin, const std::filesystem::path& cwd) {
  const qe::PwInput input = qe::parse_pw_input(text, origin);
  const qe::PwNamelist* control = input.namelist("control");
  if (!control) fail_input(origin, "has no &CONTROL namelist (is it a pw.x input?)");
  PwPaths p;
  p.outdir = control->text("outdir").value_or("");
  p.prefix = control->text("prefix").value_or("");
  if (p.outdir.empty()) {
    const char* env = std::getenv("ESPRESSO_TMPDIR");
    p.outdir = env && *env ? env : "./";
  }
  if (p.prefix.empty()) p.prefix = "pwscf";
  std::filesystem::path out(p.outdir);
  if (out.is_relative()) out = cwd / out;
  p.save_dir = (out / (p.prefix + ".save")).lexically_normal();
  return p;
}

PwPaths pw_paths_from_input(const std::filesystem::path& input, const std::filesystem::path& cwd) {
  return pw_paths_from_text(read_text_file(input), input.string(), cwd);
}

std::string pw_input_argument(const std::vector<std::string>& command) {
  for (std::size_t i = 0; i + 1 < command.size(); ++i) {
    const auto& a = command[i];
    if (a == "-i" || a == "-in" || a == "-inp" || a == "-input" || a == "--input") return command[i + 1];
  }
  return {};
}

}  // namespace rung::select
