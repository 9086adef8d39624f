#include "core/subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace rung {

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
  char sh[] = "sh", dash_c[] = "-c";
  std::string text = command;
  char* argv[] = {sh, dash_c, text.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return {};
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    ShellStatus lost;  // ECHILD: a process that ignores SIGCHLD has its children reaped by the kernel
    lost.lost = errno == ECHILD;
    return lost;
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
