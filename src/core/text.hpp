#pragma once
// The small string helpers every reader needs, once: ASCII case folding, blank trimming and splitting into words.
// Input files are ASCII where it matters (keywords, element symbols, units), so no locale is involved.
#include <string>
#include <string_view>
#include <vector>

namespace rung {

// `s` with A-Z turned into a-z; every other byte unchanged.
std::string lower(std::string s);
// `s` without leading and trailing blanks (space, tab, CR, LF, form feed, vertical tab).
std::string_view trim_view(std::string_view s);
// The same as a string.
std::string trim(std::string_view s);
// The blank-separated words of `s` (blanks as for trim_view); none for a blank `s`.
std::vector<std::string> split_words(std::string_view s);
// Parses one number as Fortran may print it ("0.3E-1", "-.14E-14", "1.0D-3"): true when the whole token was
// consumed and the value is finite (then `value` holds it).
bool parse_number(std::string token, double& value);
// The words of each line of `s` that holds any, in order (blank lines left out).
std::vector<std::vector<std::string>> word_lines(std::string_view s);

}  // namespace rung
