#include "core/subprocess.hpp"

#include "core/error.hpp"
#include "core/runtime.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace rung {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string without_mpi_environment() {
  static const char* prefixes[] = {"OMPI_", "PMIX_", "ORTE_", "OPAL_", "PMI_", "HYDRA_", "MPIR_", "I_MPI_"};
  std::string out;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    for (const char* p : prefixes)
      if (name.rfind(p, 0) == 0) {
        out += " -u " + shell_quote(name);
        break;
      }
  }
  return out.empty() ? std::string() : "env" + out + " ";
}

namespace {
// The parent of process `pid` and whether it still runs (not a zombie), from /proc/PID/stat ("pid (comm) state
// ppid ...", comm may hold spaces and parentheses); nullopt when it is gone.
std::optional<std::pair<pid_t, bool>> stat_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  char state = 0;
  long ppid = 0;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return std::pair{static_cast<pid_t>(ppid), state != 'Z' && state != 'X'};
}

bool running(pid_t pid) {
  const auto s = stat_of(pid);
  return s && s->second;
}

// Every process below `root` (children, grandchildren, ...), from /proc (rung runs on Linux).
std::vector<pid_t> descendants(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t p = static_cast<pid_t>(std::stol(name));
    if (const auto s = stat_of(p)) children[s->first].push_back(p);
  }
  std::vector<pid_t> out, todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}
}  // namespace

ShellStatus run_shell(const std::string& command) {
  posix_spawnattr_t attr;
  if (posix_spawnattr_init(&attr) != 0) return {};
  // the child starts with an empty signal mask and SIGINT, SIGQUIT, SIGPIPE at their defaults, whatever the
  // caller blocks or ignores
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // The command stays in the caller's process group, so whatever signals the group (a terminal's Ctrl-C or hang-up,
  // a notebook server stopping its kernel) reaches it too. Under a host's interrupt scope the wait also asks the
  // host's check, and a yes stops the command and everything it started (SIGTERM, then SIGKILL after two seconds):
  // a stop that reaches only the host (kill -INT of the Python process) would otherwise wait for the whole command.
  const bool interruptible = interrupt_check() != nullptr;
  char sh[] = "sh", dash_c[] = "-c";
  std::string text = command;
  char* argv[] = {sh, dash_c, text.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return {};
  int status = 0;
  const auto lost_status = [] {
    ShellStatus lost;  // ECHILD: a process that ignores SIGCHLD has its children reaped by the kernel
    lost.lost = errno == ECHILD;
    return lost;
  };
  if (!interruptible) {
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return lost_status();
    }
  } else {
    using clock = std::chrono::steady_clock;
    const auto poll = std::chrono::milliseconds(50);
    auto next_check = clock::now();
    for (;;) {
      const pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) return lost_status();
      if (clock::now() >= next_check) {
        next_check = clock::now() + std::chrono::milliseconds(100);
        if (interrupt_requested()) {
          // the tree first: once the shell is gone its children belong to init and cannot be found from it
          const auto tree = descendants(pid);
          kill(pid, SIGTERM);
          for (pid_t p : tree) kill(p, SIGTERM);
          const auto deadline = clock::now() + std::chrono::seconds(2);
          pid_t reaped = 0;
          while ((reaped = waitpid(pid, &status, WNOHANG)) == 0 && clock::now() < deadline)
            std::this_thread::sleep_for(poll);
          for (pid_t p : tree)
            if (running(p)) kill(p, SIGKILL);
          if (reaped != pid) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
          }
          throw Interrupted();
        }
      }
      std::this_thread::sleep_for(poll);
    }
  }
  ShellStatus r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code > 128 && r.exit_code < 128 + 65) r.signal = r.exit_code - 128;  // the shell's report
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    r.exit_code = 128 + r.signal;
  }
  return r;
}

std::string ShellStatus::why() const {
  if (lost) return "exit status lost (the calling process ignores SIGCHLD)";
  if (exit_code < 0) return "could not be started";
  if (signal > 0) return "killed by signal " + std::to_string(signal);
  return "exit status " + std::to_string(exit_code);
}

}  // namespace rung
