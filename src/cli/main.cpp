// rung's command-line entry point: parses the subcommand, runs it, and turns rung::Error into a
// one-line message and an exit code (2 for bad input), never a stack trace or a half-written file.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/runtime.hpp"
#include "core/thread_pools.hpp"
#include "core/timestamp.hpp"
#include "core/version.hpp"

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace rung::cli {
std::vector<Setup>& registry() {
  static std::vector<Setup> r;
  return r;
}

namespace {
std::vector<std::string>& stored_command_line() {
  static std::vector<std::string> c;
  return c;
}
}  // namespace

const std::vector<std::string>& command_line() { return stored_command_line(); }
// The program as "rung", not the path it was started by (a folder of one machine; the version is recorded beside
// it), as the data sets' and the calibration's records name it.
void set_command_line(int argc, char** argv) {
  auto& c = stored_command_line();
  c.assign(argv, argv + argc);
  if (!c.empty()) c.front() = "rung";
}
nlohmann::json output_provenance() {
  return {{"rung_version", version_string}, {"created", utc_now_iso8601()}, {"command", command_line()}};
}

Action built_without_torch(const std::string& command) {
  return [command]() -> int {
    fail(fmt::format("rung was built without LibTorch: `rung {}` is not available", command));
  };
}
}  // namespace rung::cli

namespace {

// The process's allocator keeps what it frees: glibc maps every block of 128 kB and more on its own and unmaps it
// on free (and trims the heap's top past 128 kB), so arrays allocated per k-point or per block came back as fresh
// pages, each one a page fault (about 10 µs on a virtual machine). With blocks up to 32 MB taken from the heap and
// the heap trimmed only past 256 MB, the shared Si case's IPA took 0.12-0.13 s instead of 0.17-0.19 s wall and
// the 113-G RPA 2.16-2.22 s instead of 2.22-2.36 s (peak 37 MB against 33 MB for the IPA, unchanged at 113 G).
// Arrays of 8 MB and more that the solver writes once use their own mapping (core/large_allocator.hpp). This is
// the executable's choice for its own process: the library leaves a host's allocator alone.
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  rung::MpiSession mpi(&argc, &argv);
  rung::cli::set_command_line(argc, argv);
  CLI::App app{"rung: optical spectra on the ladder of theories (QE/YAMBO readers, native IPA/RPA, OPTIMATE GAT)"};
  app.set_version_flag("--version", std::string("rung ") + rung::version_string);
  app.require_subcommand(1);
  rung::cli::Context ctx;
  app.add_flag("-q,--quiet", ctx.quiet, "No progress output on stderr");

  rung::cli::Action action;
  for (auto setup : rung::cli::registry()) setup(app, action, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 3;
  }
  // The command owns its process: one compute thread per MPI rank unless a command asks for more
  // (--threads), progress on rank 0 unless --quiet. The library itself changes neither.
  rung::Runtime runtime;
  runtime.manage_threads = true;
  runtime.progress = !ctx.quiet && rung::Comm().is_root();
  rung::configure(runtime);
  rung::share_cores_between_local_ranks();  // N ranks on a node: N x N threads otherwise (core/thread_pools.hpp)
  // An error that reaches here on one rank of several ends the whole job: the other ranks may be waiting in a
  // collective (a task farm's barrier) and would wait for ever. One that every rank raised (Comm::
  // rethrow_on_every_rank: no rank waits) is said by rank 0, which names the rank it came from, and by each rank
  // whose own failure it was, and every rank ends normally, with its status. (Called in a handler.)
  const auto failed = [](const char* what, int code) {
    const rung::Comm world;
    bool own = false;
    const bool everywhere = world.size() > 1 && rung::Comm::raised_on_every_rank(std::current_exception(), &own);
    if (!everywhere || world.is_root() || own) std::fprintf(stderr, "rung: error: %s\n", what);
    if (world.size() > 1 && !everywhere) world.abort(code);
    return code;
  };
  try {
    return action ? action() : 0;
  } catch (const rung::Error& e) {
    return failed(e.what(), e.exit_code());
  } catch (const std::exception& e) {
    return failed(e.what(), 1);
  } catch (...) {
    return failed("unknown exception", 1);
  }
}
