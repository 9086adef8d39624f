#include "select/pw_input_paths.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace rung::select {

PwPaths pw_paths_from_text(const std::string& text, const std::string& origin, const std::filesystem::path& cwd) {
  // The &CONTROL namelist runs from "&control" to the first "/" line outside quotes.
  const std::string low = lower(text);
  const auto start = low.find("&control");
  if (start == std::string::npos) fail_input(origin, "has no &CONTROL namelist (is it a pw.x input?)");
  std::size_t end = start;
  char quote = 0;
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '!') {
      end = text.find('\n', end);  // comment to end of line
      if (end == std::string::npos) break;
    } else if (c == '/') {
      break;
    }
  }
  const std::string block = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  PwPaths p;
  const auto value = [&](const char* key) -> std::string {
    const std::regex re(std::string("(^|[\\s,])") + key + "\\s*=\\s*(['\"])(.*?)\\2", std::regex::icase);
    std::smatch m;
    if (std::regex_search(block, m, re)) return m[3].str();
    return {};
  };
  p.outdir = value("outdir");
  p.prefix = value("prefix");
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
  require_exists(input);
  std::ifstream in(input);
  if (!in) fail_input(input, "cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return pw_paths_from_text(ss.str(), input.string(), cwd);
}

std::string pw_input_argument(const std::vector<std::string>& command) {
  for (std::size_t i = 0; i + 1 < command.size(); ++i) {
    const auto& a = command[i];
    if (a == "-i" || a == "-in" || a == "-inp" || a == "-input" || a == "--input") return command[i + 1];
  }
  return {};
}

}  // namespace rung::select
