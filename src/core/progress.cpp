#include "core/progress.hpp"

#include "core/error.hpp"
#include "core/runtime.hpp"

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <unistd.h>

namespace rung {
std::string format_duration(double s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{:.1f}s", s);
  const long t = long(s + 0.5);
  if (t < 3600) return fmt::format("{}m{:02d}s", t / 60, int(t % 60));
  return fmt::format("{}h{:02d}m", t / 3600, int((t % 3600) / 60));
}

Progress::Progress(std::string label, std::size_t total, bool enabled, bool interruptible)
    : label_(std::move(label)), total_(total), enabled_(enabled && progress_wanted()),
      start_(std::chrono::steady_clock::now()), last_print_(start_),
      last_check_(start_ - std::chrono::seconds(1)),  // (so that the first step asks)
      interrupt_check_(interruptible ? interrupt_check() : nullptr), owner_(std::this_thread::get_id()),
      exceptions_at_start_(std::uncaught_exceptions()) {}

Progress::~Progress() {
  if (finished_ || !enabled_ || done_ == 0) return;
  if (std::uncaught_exceptions() >
      exceptions_at_start_) {  // an error or an interruption ends the loop: say where it stopped
    std::fputs(fmt::format("{}{}: stopped at {}/{} after {}\n", isatty(fileno(stderr)) ? "\n" : "", label_, done_,
                           total_, format_duration(elapsed_seconds()))
                   .c_str(),
               stderr);
    return;
  }
  print(true);
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::size_t n) { set(done_ + n); }

void Progress::set(std::size_t done) {
  done_ = done;
  if (!enabled_ && !interrupt_check_) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::this_thread::get_id() == owner_ && stop_requested()) throw Interrupted();  // (never on another thread)
  if (!enabled_) return;
  if (std::chrono::duration<double>(now - last_print_).count() < 0.5 && done_ < total_) return;
  last_print_ = now;
  print(false);
}

bool Progress::stop_requested() {
  if (!interrupt_check_) return false;
  if (stop_.load(std::memory_order_relaxed)) return true;
  if (std::this_thread::get_id() != owner_) return false;
  // The host's check: the first time, then at most every 0.1 s (a Python host takes its lock to answer).
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_check_).count() < 0.1) return false;
  last_check_ = now;
  if (!interrupt_check_()) return false;
  stop_.store(true, std::memory_order_relaxed);
  return true;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) print(true);
}

void Progress::print(bool final) {
  const double el = elapsed_seconds();
  const bool tty = isatty(fileno(stderr));
  std::string line;
  if (final) {
    line = fmt::format("{}: {}/{} done in {}", label_, done_, total_, format_duration(el));
  } else {
    const double frac = total_ ? double(done_) / double(total_) : 0.0;
    const double eta = frac > 0 ? el * (1 - frac) / frac : 0.0;
    line = fmt::format("{}: {}/{} ({:.0f}%), elapsed {}, ETA {}", label_, done_, total_, 100 * frac,
                       format_duration(el), frac > 0 ? format_duration(eta) : "?");
  }
  // On a terminal, overwrite the line; in logs, one line per update.
  std::fputs(tty ? ("\r" + line + (final ? "\n" : "")).c_str() : (line + "\n").c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace rung
