#include "core/runtime.hpp"

#include <atomic>

namespace rung {
namespace {
// Atomics: a host may ask for progress from one thread while another is computing.
std::atomic<bool> g_manage_threads{false};
std::atomic<bool> g_progress{false};
thread_local bool (*t_interrupt_check)() = nullptr;
thread_local int t_progress_override = -1;  // -1: none; 0 / 1: off / on for this thread
}  // namespace

ProgressOverride::ProgressOverride(bool on) : previous_(t_progress_override) { t_progress_override = on ? 1 : 0; }
ProgressOverride::~ProgressOverride() { t_progress_override = previous_; }

InterruptScope::InterruptScope(bool (*check)()) : previous_(t_interrupt_check) { t_interrupt_check = check; }
InterruptScope::~InterruptScope() { t_interrupt_check = previous_; }
bool (*interrupt_check())() { return t_interrupt_check; }
bool interrupt_requested() { return t_interrupt_check && t_interrupt_check(); }

bool progress_wanted() { return t_progress_override >= 0 ? t_progress_override == 1 : g_progress.load(); }

Runtime runtime() {
  Runtime r;
  r.manage_threads = g_manage_threads.load();
  r.progress = g_progress.load();
  return r;
}

void configure(const Runtime& settings) {
  g_manage_threads = settings.manage_threads;
  g_progress = settings.progress;
}

}  // namespace rung
