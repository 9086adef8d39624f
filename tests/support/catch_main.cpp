#define CATCH_CONFIG_RUNNER
// Wide enough that `--list-tests` never wraps a case name: cmake/discover_tests.cmake reads that listing.
#define CATCH_CONFIG_CONSOLE_WIDTH 1000
#include <catch2/catch.hpp>

#include "core/runtime.hpp"

// The tests run as the rung command does: rung sets the compute thread pools (one thread unless a
// test asks for more). That the library alone leaves them untouched is checked from C, in
// tests/capi/test_capi.c (host_state), in a process of its own.
int main(int argc, char* argv[]) {
  rung::Runtime runtime;
  runtime.manage_threads = true;
  rung::configure(runtime);
  return Catch::Session().run(argc, argv);
}
