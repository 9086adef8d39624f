#pragma once
// What rung may change in the process it runs in, beyond its own objects. A library host (a C++
// program, the C API, a QE plugin) gets the defaults: rung leaves the thread pools (OpenMP/LibTorch,
// OpenBLAS) as the host set them and prints no progress. The `rung` command states what it wants once,
// in main(). HDF5's error printing is not a setting: rung silences it per call (io/hdf5_file.cpp) and
// restores the host's handler before returning.
namespace rung {

struct Runtime {
  // true: a predictor's or trainer's `threads` option sets LibTorch's intra-op pool (OpenMP), its
  // inter-op pool and OpenBLAS's own pool (one thread per MPI rank in the CLI). false: those options
  // are ignored and the pools stay as the process has them.
  bool manage_threads = false;
  // Progress lines with an ETA on stderr (core/progress.hpp).
  bool progress = false;
};

// The settings in force (the defaults above until configure() is called).
Runtime runtime();
// Replaces them; call before starting work (the CLI's main(), rung_set_progress).
void configure(const Runtime& settings);

// Progress lines for the calling thread only, while the object lives, whatever Runtime::progress says: a library
// call that names its progress explicitly (the Python module's rung.spectrum(..., progress=True)) gets what it
// asked for without changing the setting of other threads.
class ProgressOverride {
public:
  explicit ProgressOverride(bool on);
  ~ProgressOverride();
  ProgressOverride(const ProgressOverride&) = delete;
  ProgressOverride& operator=(const ProgressOverride&) = delete;

private:
  int previous_;
};
// Whether progress lines are wanted on this thread: its ProgressOverride, else Runtime::progress.
bool progress_wanted();

// A host's "stop now?" for the work the calling thread does while the object lives (the Python module opens one
// around a call made on Python's main thread: a pending Ctrl-C). Long loops (the oscillator table, chi0's tiles
// or frequencies; training epochs too, though no front door trains under a scope) ask it between their steps, on
// this thread only and at most ten times a second, and raise rung::Interrupted when it says yes; so do the wait for
// a child command (run_shell, which stops the child first) and a launch and a batch of inputs after a child process
// or an input failed (the child may have died of the same Ctrl-C). Only work on one process asks (ranks of a
// communicator cannot leave a collective one by one). Other threads, and the process without a scope, are never
// asked: the `rung` command and the C API open none.
class InterruptScope {
public:
  explicit InterruptScope(bool (*check)());
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

private:
  bool (*previous_)();
};
// This thread's check (nullptr without a scope).
bool (*interrupt_check())();
// True when this thread's scope says to stop (false without one).
bool interrupt_requested();

}  // namespace rung
