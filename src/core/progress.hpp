#pragma once
// Progress with an ETA on stderr, printed by one rank only and at most a few times per second,
// so that long runs (chi0 builds, data-set factories, training) show they are alive.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

namespace rung {

class Progress {
public:
  // `enabled` is normally "rank == 0 && stderr is wanted"; a disabled Progress costs nothing. Nothing
  // is printed unless the runtime asks for progress (core/runtime.hpp: the CLI without --quiet, a library
  // host that called rung_set_progress, or a ProgressOverride on this thread).
  // `interruptible`: the loop may stop here when the host asks (core/runtime.hpp's InterruptScope): advance()
  // and set() then raise rung::Interrupted. Only for work on one process (a communicator of one rank), whose
  // caller lets the error through; the check runs on the constructing thread only, at most ten times a second.
  Progress(std::string label, std::size_t total, bool enabled = true, bool interruptible = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::size_t n = 1);
  void set(std::size_t done);
  // For a step too long to wait for (an OpenMP loop, from which no exception may leave): whether the host has asked
  // to stop. On the constructing thread it asks the host (at most ten times a second); on the others, and once the
  // answer was yes, it returns what was last learnt. The loop then skips its remaining work and its caller raises
  // rung::Interrupted after the parallel region (or advance() does). Always false unless interruptible.
  bool stop_requested();
  void finish();  // prints the final line (total time)
  double elapsed_seconds() const;

private:
  void print(bool final);
  std::string label_;
  std::size_t total_, done_ = 0;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_print_, last_check_;
  bool (*interrupt_check_)() = nullptr;
  std::atomic<bool> stop_{false};  // the host's yes, kept (read by every thread of a loop)
  std::thread::id owner_;
  int exceptions_at_start_ = 0;
};

std::string format_duration(double seconds);

}  // namespace rung
