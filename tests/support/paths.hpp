#pragma once
// Where tests find their inputs: ../shared/reference (reference runs of QE and YAMBO, outside the repository),
// the QE runs made by the fixture:qe_runs ctest fixture, and the source tree. Tests that need an absent input call
// RUNG_SKIP_UNLESS, which records the reason and returns; the test program prints "RUNG-SKIP: <why>" at its end
// when nothing failed (ctest then reports the test as skipped; support/skip.hpp), and nothing when a check failed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>  // kept for the tests that print with std::cout
#include <string>

#include "skip.hpp"

namespace rung::test {

inline std::filesystem::path shared_reference() { return std::filesystem::path(RUNG_SHARED_DIR) / "reference"; }
inline std::filesystem::path shared_dir() { return RUNG_SHARED_DIR; }
inline std::filesystem::path qe_runs() { return RUNG_QE_RUNS_DIR; }
inline std::filesystem::path source_dir() { return RUNG_SOURCE_DIR; }
inline std::filesystem::path binary_dir() { return RUNG_BINARY_DIR; }
// The prefix.save of a fixture case (see tests/fixtures/run_qe.sh), e.g. qe_save("si_shifted_888", "si").
inline std::filesystem::path qe_save(const std::string& name, const std::string& prefix) {
  return qe_runs() / name / "out" / (prefix + ".save");
}
inline bool have(const std::filesystem::path& p) { return std::filesystem::exists(p); }

}  // namespace rung::test

#define RUNG_SKIP_UNLESS(cond, why)   \
  do {                                \
    if (!(cond)) {                    \
      ::rung::test::record_skip(why); \
      WARN("skipped: " << (why));     \
      return;                         \
    }                                 \
  } while (0)

#define RUNG_REQUIRE_SHARED(path)                                                                        \
  RUNG_SKIP_UNLESS(::rung::test::have(path), std::string("needs ") + (path).string() +                  \
                                                 " (../shared is absent in a user's clone; it runs in CI)")
