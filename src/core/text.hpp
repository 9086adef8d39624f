#pragma once
// The small string helpers every reader needs, once: ASCII case folding and blank trimming.
// Input files are ASCII where it matters (keywords, element symbols, units), so no locale is involved.
#include <string>
#include <string_view>

namespace rung {

// `s` with A-Z turned into a-z; every other byte unchanged.
std::string lower(std::string s);
// `s` without leading and trailing blanks (space, tab, CR, LF, form feed, vertical tab).
std::string_view trim_view(std::string_view s);
// The same as a string.
std::string trim(std::string_view s);

}  // namespace rung
