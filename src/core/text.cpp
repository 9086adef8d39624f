#include "core/text.hpp"

#include <cmath>
#include <cstdlib>
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
  const char* begin = token.c_str();
  char* end = nullptr;
  value = std::strtod(begin, &end);
  return end != begin && *end == '\0' && std::isfinite(value);
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
