// `rung hook [select options] -- pw.x -in nscf.in`: runs the DFT command unchanged (same stdin,
// stdout, stderr), and when it succeeds finds the prefix.save it wrote (from the input's outdir and
// prefix) and runs `rung select --launch native` (or the --launch given) on it. The DFT program's
// exit status is passed through when it fails. Made for existing workflow scripts: prefix the pw.x
// line with `rung hook --`.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "select/pw_input_paths.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace rung::cli {
namespace cmd_hook {  // this command's own names, distinct when the commands are compiled in one batch

struct HookCli {
  std::vector<std::string> command;
  std::string launch = "native", threshold, model, log, outdir, input;
  bool json = false, dry_run = false;
  bool quiet = false;  // the global -q: passed on to the rung select it starts
};

// Runs argv with the parent's stdio; returns its exit status (128 + signal when killed).
int run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) fail_usage(fmt::format("cannot start '{}': {}", args[0], std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail(fmt::format("waiting for '{}' failed: {}", args[0], std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("rung") : p.string();
}

int run_hook(const HookCli& o) {
  if (o.command.empty()) fail_usage("give the DFT command after --, e.g. rung hook -- pw.x -in nscf.in");
  const std::string input = o.input.empty() ? select::pw_input_argument(o.command) : o.input;
  if (input.empty())
    fail_usage("cannot see the pw.x input file: pass it with -in FILE (or --input FILE to rung hook); "
               "a redirection from stdin is invisible to rung");
  // Check the input before spending CPU hours on QE.
  const auto cwd = std::filesystem::current_path();
  const auto paths = select::pw_paths_from_input(input, cwd);

  if (!o.dry_run) {
    std::fflush(stdout);
    const int rc = run_program(o.command);
    if (rc != 0) {
      std::fprintf(stderr, "rung hook: '%s' exited with status %d; not running rung select\n", o.command[0].c_str(), rc);
      return rc;
    }
  }
  if (!std::filesystem::exists(paths.save_dir))
    fail_input(paths.save_dir, fmt::format("was not written by '{}' (outdir '{}', prefix '{}' from {})", o.command[0],
                                           paths.outdir, paths.prefix, input));
  std::vector<std::string> args{self_executable(), "select", paths.save_dir.string(), "--launch", o.launch};
  if (o.quiet) args.insert(args.begin() + 1, "-q");  // `rung -q hook`: the select it starts is quiet too
  if (!o.threshold.empty()) args.insert(args.end(), {"--threshold", o.threshold});
  if (!o.model.empty()) args.insert(args.end(), {"--model", o.model});
  if (!o.log.empty()) args.insert(args.end(), {"--log", o.log});
  if (!o.outdir.empty()) args.insert(args.end(), {"--outdir", o.outdir});
  if (o.json) args.push_back("--json");
  std::fprintf(stderr, "rung hook: %s finished; selecting on %s\n", o.command[0].c_str(), paths.save_dir.c_str());
  std::fflush(stdout);
  return run_program(args);
}

void setup(CLI::App& app, Action& action, const Context& ctx) {
  auto o = std::make_shared<HookCli>();
  auto* cmd = app.add_subcommand("hook", "Run a pw.x command, then `rung select` on the prefix.save it wrote");
  cmd->add_option("--launch", o->launch, "What to launch when the RPA is needed: native | yambo | none")
      ->capture_default_str();
  cmd->add_option("--threshold", o->threshold, "SC threshold (see rung select)");
  cmd->add_option("--model", o->model, "Model folder or file (see rung select)");
  cmd->add_option("--log", o->log, "Decision log (see rung select)");
  cmd->add_option("--outdir", o->outdir, "Where launched runs write (see rung select)");
  cmd->add_option("--input", o->input, "The pw.x input, when the command does not name it with -in");
  cmd->add_flag("--json", o->json, "Print the decision as JSON");
  cmd->add_flag("--dry-run", o->dry_run, "Do not run the command; select on the save it would have written");
  cmd->add_option("COMMAND", o->command, "The DFT command line, after --")->required();
  cmd->callback([o, &action, &ctx] {
    action = [o, &ctx] {  // read when the command runs: the global -q is parsed by then
      o->quiet = ctx.quiet;
      return run_hook(*o);
    };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_hook
}  // namespace rung::cli
