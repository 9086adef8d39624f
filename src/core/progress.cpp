#include "core/progress.hpp"

#include "core/runtime.hpp"

#include <cstdio>
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

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && runtime().progress),
      start_(std::chrono::steady_clock::now()), last_print_(start_) {}

Progress::~Progress() {
  if (!finished_ && enabled_ && done_ > 0) print(true);
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::size_t n) { set(done_ + n); }

void Progress::set(std::size_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_print_).count() < 0.5 && done_ < total_) return;
  last_print_ = now;
  print(false);
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
