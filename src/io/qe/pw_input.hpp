#pragma once
// pw.x input files, read and written in one place: Fortran namelists (&CONTROL, &SYSTEM, &ELECTRONS, ...)
// and the cards that follow them (ATOMIC_SPECIES, CELL_PARAMETERS, ATOMIC_POSITIONS, K_POINTS, ...).
// The reader keeps values as written (quotes included) and knows nothing of their meaning: the structure
// reader (io/structures/pw_input.cpp), `rung hook` (where the run writes its save) and the data-set factory
// (which writes the inputs) interpret them.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rung::qe {

struct PwNamelist {
  std::string name;                                         // lower case, without '&': "control", "system", ...
  std::vector<std::pair<std::string, std::string>> values;  // key (lower case, no blanks) -> value as written

  // The value as written ("'scf'", "10.2d0", ".true."), the last one when a key repeats; nullopt if absent.
  std::optional<std::string> raw(std::string_view key) const;
  // The same without the quotes of a character value.
  std::optional<std::string> text(std::string_view key) const;
  void set(std::string key, std::string value) { values.emplace_back(std::move(key), std::move(value)); }
};

struct PwCard {
  std::string name;                // lower case: "atomic_positions", ...
  std::string option;              // lower case, without braces: "crystal", "angstrom", "automatic"; "" if none
  std::vector<std::string> lines;  // the card's lines, trimmed, comments removed, case kept
};

struct PwInput {
  std::vector<PwNamelist> namelists;  // in the file's order
  std::vector<PwCard> cards;

  const PwNamelist* namelist(std::string_view name) const;  // lower-case name; nullptr if absent
  const PwCard* card(std::string_view name) const;
  PwNamelist& add_namelist(std::string name);
  PwCard& add_card(std::string name, std::string option = {});
};

// Parses pw.x input text. Comments ('!' or '#' outside quotes) are dropped; a namelist runs from "&name"
// to the first '/' outside quotes; key = value pairs are separated by commas, blanks or new lines; further
// values after a pair (an array: "celldm = 1, 2") are appended to it, comma-separated. Lines outside
// namelists belong to the last card named; anything before the first card is ignored. fail_input naming
// `origin` on a value without a key, an unterminated quote, or a namelist never closed with '/' (the text ends,
// or a line starting with '&' or naming ATOMIC_SPECIES, ATOMIC_POSITIONS, K_POINTS or CELL_PARAMETERS comes,
// while it is open).
PwInput parse_pw_input(std::string_view text, const std::string& origin);
PwInput read_pw_input(const std::filesystem::path& path);

// The text of `input`: "&name", "  key = value" per value, "/"; then each card "NAME option" (upper-case
// name) with its lines indented by two blanks. Values are written as given (quote character values).
std::string write_pw_input(const PwInput& input);

// A character value for write_pw_input: 'text'.
std::string pw_quoted(std::string_view text);

}  // namespace rung::qe
