#define CATCH_CONFIG_RUNNER
// Wide enough that `--list-tests` never wraps a case name: cmake/discover_tests.cmake reads that listing.
#define CATCH_CONFIG_CONSOLE_WIDTH 1000
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "core/runtime.hpp"
#include "skip.hpp"

namespace {

// Every test process gets a scratch folder of its own, made unique by mkdtemp and named in TMPDIR, so that
// std::filesystem::temp_directory_path() (and the `rung` commands a test starts) write there. Two test runs on one
// machine (ctest -j, the sanitizer build, a second checkout, another user) then never share a file name. It is
// removed when the tests end, unless RUNG_KEEP_TEST_TMP is set.
struct ScratchTmp {
  std::filesystem::path dir;
  ScratchTmp() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rung-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return;  // keep the system's temporary folder
    dir = pattern;
    ::setenv("TMPDIR", pattern.c_str(), 1);
  }
  ~ScratchTmp() {
    if (dir.empty() || ::getenv("RUNG_KEEP_TEST_TMP") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ScratchTmp(const ScratchTmp&) = delete;
  ScratchTmp& operator=(const ScratchTmp&) = delete;
};

}  // namespace

// The tests run as the rung command does: rung sets the compute thread pools (one thread unless a
// test asks for more). That the library alone leaves them untouched is checked from C, in
// tests/capi/test_capi.c (host_state), in a process of its own.
// The skips the cases recorded (RUNG_SKIP_UNLESS, support/skip.hpp) are printed as "RUNG-SKIP: <why>", the marker
// ctest reports as a skip whatever the exit status, only when the run passed: a case that failed a check and then
// skipped is reported as failed.
int main(int argc, char* argv[]) {
  const ScratchTmp scratch;
  rung::Runtime runtime;
  runtime.manage_threads = true;
  rung::configure(runtime);
  const int failed = Catch::Session().run(argc, argv);
  if (failed == 0)
    for (const auto& why : rung::test::skip_reasons()) std::cout << "RUNG-SKIP: " << why << std::endl;
  return failed;
}
