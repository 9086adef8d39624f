#pragma once
// Starting a shell command from a library or a long-running run: posix_spawn of /bin/sh -c, waited for by its pid.
// Unlike std::system it leaves the caller's signal dispositions alone (std::system ignores SIGINT and SIGQUIT and
// blocks SIGCHLD in the whole process while the command runs), so a Ctrl-C stops the caller too and a host's
// own child handling keeps working. The child gets the caller's environment and an empty signal mask.
#include <string>

namespace rung {

// What became of a command: exit_code is its exit status, or 128 + N when it (or the shell) died of signal N,
// as a shell reports it; -1 when it could not be started at all, or when it ran but its status was lost.
struct ShellStatus {
  int exit_code = -1;
  int signal = 0;     // N when the command or its shell died of signal N (exit_code 128 + N), else 0
  bool lost = false;  // it ran, but its exit status is unknown: the process ignores SIGCHLD, so the kernel reaped it
  std::string why() const;  // "exit status 2", "signal 9", "could not be started", "exit status lost (...)"
};

// `s` as one word of a POSIX shell command line: in single quotes, an embedded quote as '\''.
std::string shell_quote(const std::string& s);

// "env -u NAME ... " for every MPI launcher variable of this process (OMPI_*, PMIX_*, ORTE_*, OPAL_*, PMI_*, HYDRA_*,
// MPIR_*, I_MPI_*), or "" when it has none. Put in front of a command run from inside an MPI rank, so that an
// MPI-linked child (pw.x, p2y, yambo, rung itself) starts as a job of its own instead of trying to join the caller's
// and aborting ("orte_init failed") or waiting in MPI_Init.
std::string without_mpi_environment();

// Under an InterruptScope (core/runtime.hpp) the host's check is asked ten times a second while the command runs,
// and a yes stops the command and its descendants (SIGTERM, SIGKILL after 2 s) and raises rung::Interrupted.
ShellStatus run_shell(const std::string& command);

}  // namespace rung
