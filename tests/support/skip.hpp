#pragma once
// The skips of a test process (RUNG_SKIP_UNLESS, tests/support/paths.hpp): each case that skips records its
// reason here, and the test programs' main (tests/support/catch_main.cpp) prints them as "RUNG-SKIP: <why>", the
// marker cmake/discover_tests.cmake makes ctest report as a skip, after the run and only when the run passed.
// A case that fails an assertion before it skips is so reported as failed, never as skipped.
#include <string>
#include <vector>

namespace rung::test {

inline std::vector<std::string>& skip_reasons() {
  static std::vector<std::string> reasons;
  return reasons;
}
inline void record_skip(const std::string& why) { skip_reasons().push_back(why); }

}  // namespace rung::test
