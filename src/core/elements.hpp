#pragma once
// The periodic table: symbols, periods and IUPAC groups (1-18; 0 for lanthanides/actinides).
#include <string>
#include <string_view>

namespace rung::elements {

inline constexpr int max_z = 118;

// "Si" -> 14. Accepts any capitalisation and trailing digits/charges ("SI", "Si1", "O2-").
// Returns 0 if unknown.
int atomic_number(std::string_view symbol);
// A QE species label (ATOMIC_SPECIES, the XML's species and atom names), as pw.x reads it: the chemical symbol
// followed by anything ("Fe1", "Fe_up", "O-2", and a letter as in "Oa", "Nx"): the leading letters if they are a
// symbol, else their first two, else their first one. Returns 0 if none is an element.
int atomic_number_of_label(std::string_view label);
// 14 -> "Si". Throws for z outside 1..118.
std::string symbol(int z);
int period(int z);
int group(int z);
bool is_main_group(int z);  // groups 1, 2, 13-18 (H and He included)

}  // namespace rung::elements
