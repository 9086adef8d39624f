#include "io/qe/pw_input.hpp"

#include "core/error.hpp"
#include "core/text_file.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <sstream>

namespace rung::qe {
namespace {

// The cards pw.x knows; a line that starts with one of these names opens it.
constexpr std::string_view card_names[] = {"atomic_species",   "atomic_positions",     "k_points",
                                           "additional_k_points", "cell_parameters",    "constraints",
                                           "occupations",      "atomic_velocities",    "atomic_forces",
                                           "solvents",         "hubbard"};

// The cards whose name on a line inside a namelist means its '/' was forgotten (names that are no &SYSTEM key:
// "occupations" is both).
constexpr std::string_view structure_cards[] = {"atomic_species", "atomic_positions", "k_points", "cell_parameters"};

// The first word of a lower-case trimmed line, as a card name is written ("k_points{automatic}" included).
std::string first_word(const std::string& low) { return low.substr(0, low.find_first_of(" \t{(")); }

bool is_quote(char c) { return c == '\'' || c == '"'; }

// Drops a '!' or '#' comment outside quotes.
std::string strip_comment(const std::string& line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (is_quote(c)) {
      quote = c;
    } else if (c == '!' || c == '#') {
      return line.substr(0, i);
    }
  }
  return line;
}

bool separator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r'; }

// Reads one value at s[i]: a quoted string (quotes kept) or a run of characters up to a separator or '/'.
std::string read_value(const std::string& s, std::size_t& i, const std::string& origin, const std::string& nl) {
  const std::size_t start = i;
  if (is_quote(s[i])) {
    const auto close = s.find(s[i], i + 1);
    if (close == std::string::npos)
      fail_input(origin, fmt::format("unterminated quote in &{}: {}", nl, trim(s.substr(start))));
    i = close + 1;
  } else {
    while (i < s.size() && !separator(s[i]) && s[i] != '/') ++i;
  }
  return s.substr(start, i - start);
}

}  // namespace

std::optional<std::string> PwNamelist::raw(std::string_view key) const {
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (it->first == key) return it->second;
  return std::nullopt;
}

std::optional<std::string> PwNamelist::text(std::string_view key) const {
  auto v = raw(key);
  if (v && v->size() >= 2 && is_quote(v->front()) && v->back() == v->front()) *v = v->substr(1, v->size() - 2);
  return v;
}

const PwNamelist* PwInput::namelist(std::string_view name) const {
  for (const auto& n : namelists)
    if (n.name == name) return &n;
  return nullptr;
}

const PwCard* PwInput::card(std::string_view name) const {
  for (const auto& c : cards)
    if (c.name == name) return &c;
  return nullptr;
}

PwNamelist& PwInput::add_namelist(std::string name) {
  namelists.push_back({std::move(name), {}});
  return namelists.back();
}

PwCard& PwInput::add_card(std::string name, std::string option) {
  cards.push_back({std::move(name), std::move(option), {}});
  return cards.back();
}

PwInput parse_pw_input(std::string_view text, const std::string& origin) {
  PwInput in;
  PwNamelist* nl = nullptr;  // the open namelist
  PwCard* card = nullptr;    // the card lines go to
  // key = value pairs of the open namelist in `s` from `i`; closes it at a '/'.
  const auto parse_body = [&](const std::string& s, std::size_t i) {
    while (nl) {
      while (i < s.size() && separator(s[i])) ++i;
      if (i >= s.size()) return;
      if (s[i] == '/') {
        nl = nullptr;
        return;
      }
      if (is_quote(s[i])) {  // a further value of the previous key
        const std::string v = read_value(s, i, origin, nl->name);
        if (nl->values.empty()) fail_input(origin, fmt::format("cannot parse '{}' in &{}", trim(s), nl->name));
        nl->values.back().second += ", " + v;
        continue;
      }
      std::size_t j = i;
      while (j < s.size() && s[j] != '=' && !separator(s[j]) && s[j] != '/') ++j;
      std::size_t k = j;
      while (k < s.size() && separator(s[k]) && s[k] != ',') ++k;
      if (k < s.size() && s[k] == '=') {
        std::string key = lower(s.substr(i, j - i));
        i = k + 1;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::string value = i < s.size() && s[i] != ',' && s[i] != '/' ? read_value(s, i, origin, nl->name) : "";
        nl->set(std::move(key), std::move(value));
      } else {  // a value without "key =": the next element of the previous key's array
        if (nl->values.empty()) fail_input(origin, fmt::format("cannot parse '{}' in &{}", trim(s), nl->name));
        nl->values.back().second += ", " + s.substr(i, j - i);
        i = j;
      }
    }
  };
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    const std::string line = strip_comment(raw);
    const std::string t = trim(line);
    if (nl) {
      // A namelist whose '/' is missing would swallow the next namelist or the cards: refused, not guessed.
      const std::string low = lower(t);
      if (low == "&end") {  // the legacy terminator, which Fortran namelist reads accept as '/'
        nl = nullptr;
        continue;
      }
      if (!t.empty() && (t[0] == '&' || std::find(std::begin(structure_cards), std::end(structure_cards),
                                                  first_word(low)) != std::end(structure_cards)))
        fail_input(origin, fmt::format("&{} is never closed with '/' (found '{}' inside it)", nl->name, t));
      parse_body(line, 0);
      continue;
    }
    if (t.empty()) continue;
    if (t[0] == '&') {
      std::size_t end = 1;
      while (end < t.size() && (std::isalnum(static_cast<unsigned char>(t[end])) || t[end] == '_')) ++end;
      nl = &in.add_namelist(lower(t.substr(1, end - 1)));
      card = nullptr;
      parse_body(t, end);
      continue;
    }
    const std::string low = lower(t);
    const std::string first = first_word(low);
    if (std::find(std::begin(card_names), std::end(card_names), first) != std::end(card_names)) {
      std::string option = low.substr(first.size());
      option.erase(std::remove_if(option.begin(), option.end(),
                                  [](char c) { return c == '{' || c == '}' || c == '(' || c == ')' || c == ' ' || c == '\t'; }),
                   option.end());
      card = &in.add_card(first, option);
      continue;
    }
    if (card) card->lines.push_back(t);
  }
  if (nl) fail_input(origin, fmt::format("&{} is never closed with '/'", nl->name));
  return in;
}

PwInput read_pw_input(const std::filesystem::path& path) { return parse_pw_input(read_text_file(path), path.string()); }

std::string write_pw_input(const PwInput& input) {
  std::string t;
  for (const auto& n : input.namelists) {
    t += "&" + n.name + "\n";
    for (const auto& [key, value] : n.values) t += fmt::format("  {} = {}\n", key, value);
    t += "/\n";
  }
  for (const auto& c : input.cards) {
    std::string name = c.name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
    t += c.option.empty() ? name + "\n" : name + " " + c.option + "\n";
    for (const auto& l : c.lines) t += "  " + l + "\n";
  }
  return t;
}

std::string pw_quoted(std::string_view text) {
  std::string q;  // appended piece by piece: gcc 12 warns (-Wrestrict, falsely) on "'" + std::string(text) + "'"
  q.reserve(text.size() + 2);
  q += '\'';
  q += text;
  q += '\'';
  return q;
}

}  // namespace rung::qe
