#include "core/subprocess.hpp"

#include "core/error.hpp"
#include "core/runtime.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
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
  // Under a host's interrupt scope the command runs in a process group of its own, which is stopped (SIGTERM, then
  // SIGKILL after two seconds) when the host asks to stop: a Ctrl-C that reaches only the host (a notebook's
  // "interrupt kernel", kill -INT) would otherwise wait for the whole command. Without a scope the command stays in
  // the caller's group, so a terminal's Ctrl-C reaches both.
  const bool interruptible = interrupt_check() != nullptr;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (interruptible) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
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
          kill(-pid, SIGTERM);
          const auto deadline = clock::now() + std::chrono::seconds(2);
          while (waitpid(pid, &status, WNOHANG) == 0 && clock::now() < deadline) std::this_thread::sleep_for(poll);
          kill(-pid, SIGKILL);  // the group: the shell's children too, whether or not the shell is gone
          while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
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
