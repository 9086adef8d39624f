#include "core/elements.hpp"

#include "core/error.hpp"

#include <array>
#include <cctype>
#include <fmt/format.h>

namespace rung::elements {
namespace {

constexpr std::array<const char*, max_z + 1> kSymbols = {
    "",   "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",
    "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
    "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho",
    "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po",
    "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md",
    "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

// First atomic number of each period.
constexpr std::array<int, 8> kPeriodStart = {1, 3, 11, 19, 37, 55, 87, 119};

}  // namespace

int atomic_number(std::string_view s) {
  std::string clean;
  for (char c : s) {
    if (std::isalpha(static_cast<unsigned char>(c))) clean.push_back(c);
    else break;
  }
  if (clean.empty() || clean.size() > 2) return 0;
  clean[0] = char(std::toupper(static_cast<unsigned char>(clean[0])));
  if (clean.size() == 2) clean[1] = char(std::tolower(static_cast<unsigned char>(clean[1])));
  for (int z = 1; z <= max_z; ++z)
    if (clean == kSymbols[z]) return z;
  return 0;
}

int atomic_number_of_label(std::string_view label) {
  if (int z = atomic_number(label)) return z;
  std::string letters;
  for (char c : label) {
    if (std::isalpha(static_cast<unsigned char>(c))) letters.push_back(c);
    else break;
  }
  if (letters.size() >= 2)
    if (int z = atomic_number(letters.substr(0, 2))) return z;
  if (!letters.empty())
    if (int z = atomic_number(letters.substr(0, 1))) return z;
  return 0;
}

std::string symbol(int z) {
  if (z < 1 || z > max_z) fail(fmt::format("atomic number {} outside 1..{}", z, max_z));
  return kSymbols[z];
}

int period(int z) {
  if (z < 1 || z > max_z) fail(fmt::format("atomic number {} outside 1..{}", z, max_z));
  int p = 1;
  while (p < 7 && z >= kPeriodStart[p]) ++p;
  return p;
}

int group(int z) {
  const int p = period(z);
  if (z == 1) return 1;
  if (z == 2) return 18;
  const int offset = z - kPeriodStart[p - 1];  // 0-based position within the period
  if (p <= 3) return offset < 2 ? offset + 1 : offset + 11;
  if (p <= 5) return offset + 1;
  // Periods 6, 7: s-block (2), f-block (14: La..Yb / Ac..No, group 0 except La/Ac -> 3), then d and p.
  if (offset < 2) return offset + 1;
  if (offset < 16) return offset == 2 ? 3 : 0;
  return offset - 13;
}

bool is_main_group(int z) {
  const int g = group(z);
  return g == 1 || g == 2 || g >= 13;
}

}  // namespace rung::elements
