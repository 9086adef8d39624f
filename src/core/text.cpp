#include "core/text.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace rung {

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

std::string_view trim_view(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(blanks);
  return s.substr(b, e - b + 1);
}

std::string trim(std::string_view s) { return std::string(trim_view(s)); }

bool parse_number(std::string token, double& value) {
  for (auto& c : token)
    if (c == 'D' || c == 'd') c = 'E';
  // std::from_chars, not strtod: a host's LC_NUMERIC (a decimal comma) must not change what a file says
  std::string_view t = trim_view(token);
  if (t.size() > 1 && t[0] == '+' && t[1] != '-' && t[1] != '+') t.remove_prefix(1);  // (from_chars takes no '+')
  double x = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty() || !std::isfinite(x)) return false;
  value = x;
  return true;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(std::move(w));
  return out;
}

std::vector<std::vector<std::string>> word_lines(std::string_view s) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in{std::string(s)};
  for (std::string line; std::getline(in, line);)
    if (auto words = split_words(line); !words.empty()) out.push_back(std::move(words));
  return out;
}

}  // namespace rung
