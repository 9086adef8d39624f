// rung's command-line entry point: parses the subcommand, runs it, and turns rung::Error into a
// one-line message and an exit code (2 for bad input), never a stack trace or a half-written file.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/runtime.hpp"
#include "core/thread_pools.hpp"
#include "core/version.hpp"

#include <cstdio>
#include <exception>
#include <fmt/format.h>

namespace rung::cli {
std::vector<Setup>& registry() {
  static std::vector<Setup> r;
  return r;
}

Action built_without_torch(const std::string& command) {
  return [command]() -> int {
    fail(fmt::format("rung was built without LibTorch: `rung {}` is not available", command));
  };
}
}  // namespace rung::cli

int main(int argc, char** argv) {
  rung::MpiSession mpi(&argc, &argv);
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
  try {
    return action ? action() : 0;
  } catch (const rung::Error& e) {
    std::fprintf(stderr, "rung: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rung: error: %s\n", e.what());
    return 1;
  }
}
