#include "core/runtime.hpp"

#include <atomic>

namespace rung {
namespace {
// Atomics: a host may ask for progress from one thread while another is computing.
std::atomic<bool> g_manage_threads{false};
std::atomic<bool> g_progress{false};
}  // namespace

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
