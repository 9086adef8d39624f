#pragma once
// Where tests find their inputs: ../shared/reference (reference runs of QE and YAMBO, outside the repository),
// the QE runs made by the fixture:qe_runs ctest fixture, and the source tree. Tests that need an absent input call
// RUNG_SKIP_UNLESS, which records the reason and returns; the test program prints "RUNG-SKIP: <why>" at its end
// when nothing failed (ctest then reports the test as skipped; support/skip.hpp), and nothing when a check failed.
//
// Only one thing may be absent: ../shared, which a user's clone lacks (CI has it). A test that needs a file of
// ../shared calls RUNG_REQUIRE_SHARED(path), and one that needs a pw.x fixture run calls
// RUNG_REQUIRE_FIXTURE(case): both skip when ../shared/reference is absent (and, for a fixture case, the case is
// made from ../shared's inputs), and fail otherwise, so that a renamed file of ../shared or a run the fixture did
// not make turns a comparison into a failure, never into a skip.
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>  // kept for the tests that print with std::cout
#include <set>
#include <stdexcept>
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
// Whether ../shared is here (CI, a developer's checkout) or not (a user's clone): its reference/ folder decides,
// as it decides for tests/fixtures/run_qe.sh which cases it runs.
inline bool shared_present() { return have(shared_reference()); }

// The cases of tests/fixtures/run_qe.sh, by the inputs they are made from: rung's own (always made, or the fixture
// fails) or ../shared/reference's (made whenever that folder is present, or the fixture fails). A name in neither
// list is a mistake in the test, reported as such.
inline bool fixture_case_needs_shared(const std::string& name) {
  static const std::set<std::string> own{"si_tiny",       "si_tiny_unpolarised", "si_tiny_noncollinear", "alsb_so",
                                         "alsb_so_fd",    "alsb_so_ibz",         "alsb_so_nosym",        "si_list_sym",
                                         "si_list_nosym", "si_scf_occupied"};
  static const std::set<std::string> shared{"yambo_tests_si",  "si_shifted_888", "si_gamma_888", "si_gamma_888_nosym",
                                            "qe_si_888_nosym", "al_888",         "fe_bcc_888"};
  if (own.count(name) != 0) return false;
  if (shared.count(name) != 0) return true;
  throw std::logic_error("tests/fixtures/run_qe.sh makes no case named " + name);
}
// The `rung` command of this build tree, for the programs that run it: rung_test_uses_cli (tests/CMakeLists.txt)
// passes its path and builds it before them. A command that is not there throws, failing the case: a test of the
// command never passes or skips without it.
#ifdef RUNG_CLI_PATH
inline std::filesystem::path rung_cli() {
  const std::filesystem::path p(RUNG_CLI_PATH);
  if (p.empty()) throw std::runtime_error("this build has no rung command (RUNG_READERS_ONLY)");
  if (!have(p)) throw std::runtime_error("the rung command is not built: " + p.string());
  return p;
}
#endif

// Whether run_qe.sh finished the case (it touches <case>/.done last).
inline bool fixture_done(const std::string& name) { return have(qe_runs() / name / ".done"); }
// Whether this checkout should have the case: always, except a ../shared case in a clone without ../shared.
inline bool fixture_expected(const std::string& name) { return !fixture_case_needs_shared(name) || shared_present(); }

}  // namespace rung::test

#define RUNG_SKIP_UNLESS(cond, why)   \
  do {                                \
    if (!(cond)) {                    \
      ::rung::test::record_skip(why); \
      WARN("skipped: " << (why));     \
      return;                         \
    }                                 \
  } while (0)

// A file or folder of ../shared: skipped where ../shared/reference is absent (a user's clone), a failure where it
// is present and the path is not (a renamed or missing reference must not turn its comparison off).
#define RUNG_REQUIRE_SHARED(shared_path_arg)                                                                         \
  do {                                                                                                               \
    const std::filesystem::path rung_shared_path_ = (shared_path_arg);                                               \
    RUNG_SKIP_UNLESS(::rung::test::shared_present(), std::string("needs ") + rung_shared_path_.string() +            \
                                                         " (../shared is absent in a user's clone; it runs in CI)"); \
    if (!::rung::test::have(rung_shared_path_))                                                                      \
      FAIL(rung_shared_path_.string() << " is missing although " << ::rung::test::shared_reference().string()        \
                                      << " is present");                                                             \
  } while (0)

// A pw.x run of the fixture (tests/fixtures/run_qe.sh), by case name: skipped only for a case made from
// ../shared's inputs where ../shared is absent; a failure when the run is missing otherwise (run_qe.sh makes it
// or fails; ctest runs fixture:qe_runs before every test that needs it).
#define RUNG_REQUIRE_FIXTURE(name)                                                                                \
  do {                                                                                                            \
    const std::string rung_fixture_case_ = (name);                                                                \
    RUNG_SKIP_UNLESS(::rung::test::fixture_expected(rung_fixture_case_),                                          \
                     "needs the pw.x fixture run " + rung_fixture_case_ +                                         \
                         ", made from ../shared/reference (absent in a user's clone; it runs in CI)");            \
    if (!::rung::test::fixture_done(rung_fixture_case_))                                                          \
      FAIL("the pw.x fixture run " << rung_fixture_case_ << " is missing in " << ::rung::test::qe_runs().string() \
                                   << " (tests/fixtures/run_qe.sh makes it; ctest runs fixture:qe_runs first)");  \
  } while (0)
