// `rung hook [select options] -- pw.x -in nscf.in`: runs the DFT command unchanged (same stdin,
// stdout, stderr), and when it succeeds finds the prefix.save it wrote (from the input's outdir and
// prefix) and runs `rung select --launch native` (or the --launch given) on it. The DFT program's
// exit status is passed through when it fails (127 when it cannot be started); a signal sent to rung while it
// runs is handed on to it. Made for existing workflow scripts: prefix the pw.x
// line with `rung hook --`.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "select/pw_input_paths.hpp"
#include "select/run_selection.hpp"

#include <cerrno>
#include <optional>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

extern char** environ;

namespace rung::cli {
namespace cmd_hook {  // this command's own names, distinct when the commands are compiled in one batch

struct HookCli {
  std::vector<std::string> command;
  std::string launch = "native", threshold, model, log, outdir, input;
  std::string calibration, cost_model, block_cutoff, spread_factor, max_spread;  // passed on to rung select
  bool json = false, dry_run = false, no_probe = false;
  bool quiet = false;  // the global -q: passed on to the rung select it starts
};

// The child being waited for, to which a signal sent to rung alone is handed on (0: none).
volatile sig_atomic_t waited_child = 0;

extern "C" void forward_signal(int sig, siginfo_t* info, void*) {
  // A signal from the terminal (Ctrl-C: si_code SI_KERNEL) reached the child's process group already; one a
  // process sent to rung alone (kill PID, Popen.terminate, a workflow manager) must reach the child too, or it
  // would run on unsupervised after rung ended. (kill is async-signal-safe; errno is the interrupted code's.)
  const int saved = errno;
  if (waited_child > 0 && info && (info->si_code == SI_USER || info->si_code == SI_QUEUE))
    kill(pid_t(waited_child), sig);
  errno = saved;
}

// Runs `path` with argv `args` and the parent's stdio; returns its exit status (128 + signal when killed, 127 when
// it cannot be started, as a shell). While it runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to rung are handed on
// to it and rung waits for it to end (so it never outlives rung), then returns its status. A signal rung ignores
// (nohup's SIGHUP, a background job's SIGINT) stays ignored, by rung and by the child.
int run_program(const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  constexpr int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  // blocked from before the handlers are set until the child's pid is stored: a signal in between is delivered
  // then, and reaches the child (else it would find no child and be lost)
  sigset_t block, old_mask;
  sigemptyset(&block);
  for (int sig : forwarded) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction act {
  }, old[4];
  act.sa_sigaction = forward_signal;
  act.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&act.sa_mask);
  sigset_t defaults;  // the signals the child starts with at their default action: those rung catches now
  sigemptyset(&defaults);
  bool caught[4] = {false, false, false, false};
  for (int i = 0; i < 4; ++i) {
    sigaction(forwarded[i], nullptr, &old[i]);
    if (old[i].sa_handler == SIG_IGN) continue;  // left ignored (posix_spawn keeps it ignored in the child)
    sigaction(forwarded[i], &act, nullptr);
    sigaddset(&defaults, forwarded[i]);
    caught[i] = true;
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &old_mask);  // the child runs with rung's mask from before the block
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, path.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  const auto restore = [&] {
    waited_child = 0;
    for (int i = 0; i < 4; ++i)
      if (caught[i]) sigaction(forwarded[i], &old[i], nullptr);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);  // a signal still pending now takes rung's own action
  };
  if (rc != 0) {
    restore();
    std::fprintf(stderr, "rung hook: cannot start '%s': %s\n", args[0].c_str(), std::strerror(rc));
    return 127;
  }
  waited_child = pid;
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  // wait without reaping, stop forwarding, then reap: the pid cannot be reused while a signal may still go to it
  siginfo_t done{};
  while (waitid(P_PID, id_t(pid), &done, WEXITED | WNOWAIT) < 0)
    if (errno != EINTR) {
      restore();
      fail(fmt::format("waiting for '{}' failed: {}", args[0], std::strerror(errno)));
    }
  sigprocmask(SIG_BLOCK, &block, nullptr);
  waited_child = 0;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  restore();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int run_program(const std::vector<std::string>& args) { return run_program(args.at(0), args); }

// This executable's path (for messages and argv[0]); it is started as /proc/self/exe, which still works when the
// file was rebuilt or removed during a long DFT run.
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
  select::check_decision_log_path(o.log);  // the decision log rung select appends to, as select checks it

  // the save's data-file-schema.xml before the run (its time stamp, by the file system's own clock): a run that
  // rewrote nothing leaves it as it was
  const auto xml = paths.save_dir / "data-file-schema.xml";
  std::optional<std::filesystem::file_time_type> before;
  if (std::error_code ec; std::filesystem::exists(xml, ec)) {
    const auto t = std::filesystem::last_write_time(xml, ec);
    if (!ec) before = t;
  }
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
  // a save left by an earlier run, where this one wrote elsewhere (another outdir in its environment): selecting
  // on it would decide for the wrong run
  if (std::error_code ec; !o.dry_run && before && std::filesystem::exists(xml, ec)) {
    const auto after = std::filesystem::last_write_time(xml, ec);
    if (!ec && after == *before)
      fail_input(xml, fmt::format("was not rewritten by '{}' (unchanged since before it ran): an earlier run's save; "
                                  "check outdir and prefix ({}, {} from {})",
                                  o.command[0], paths.outdir, paths.prefix, input));
  }
  std::vector<std::string> args{self_executable(), "select", paths.save_dir.string(), "--launch", o.launch};
  if (o.quiet) args.insert(args.begin() + 1, "-q");  // `rung -q hook`: the select it starts is quiet too
  if (!o.threshold.empty()) args.insert(args.end(), {"--threshold", o.threshold});
  if (!o.model.empty()) args.insert(args.end(), {"--model", o.model});
  if (!o.log.empty()) args.insert(args.end(), {"--log", o.log});
  if (!o.outdir.empty()) args.insert(args.end(), {"--outdir", o.outdir});
  for (const auto& [flag, value] : {std::pair{"--calibration", &o.calibration},
                                    {"--cost-model", &o.cost_model},
                                    {"--block-cutoff", &o.block_cutoff},
                                    {"--spread-factor", &o.spread_factor},
                                    {"--max-spread", &o.max_spread}})
    if (!value->empty()) args.insert(args.end(), {flag, *value});
  if (o.no_probe) args.push_back("--no-probe");
  if (o.json) args.push_back("--json");
  std::fprintf(stderr, "rung hook: %s finished; selecting on %s\n", o.command[0].c_str(), paths.save_dir.c_str());
  std::fflush(stdout);
  return run_program("/proc/self/exe", args);
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
  cmd->add_option("--calibration", o->calibration, "Probe correction and intervals (see rung select)");
  cmd->add_option("--cost-model", o->cost_model, "Cost model JSON (see rung select)");
  cmd->add_option("--block-cutoff", o->block_cutoff, "G-block cut-off (Ry) of the launch (see rung select)");
  cmd->add_option("--spread-factor", o->spread_factor, "Scale of the evidence's interval (see rung select)");
  cmd->add_option("--max-spread", o->max_spread, "Interval half-width above which 'uncertain' (see rung select)");
  cmd->add_flag("--no-probe", o->no_probe, "Decide on the model alone, no RPA probe (see rung select)");
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
