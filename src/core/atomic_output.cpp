#include "core/atomic_output.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <unistd.h>

namespace rung {

AtomicOutput::AtomicOutput(std::filesystem::path target) : target_(std::move(target)) {
  const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) fail(fmt::format("{}: output directory does not exist", dir.string()));
  std::random_device rd;
  temp_ = dir / fmt::format(".{}.tmp-{}-{:x}", target_.filename().string(), ::getpid(), rd());
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void AtomicOutput::commit() {
  // on disk before the rename: a machine that goes down just after it leaves the old file or the whole new one,
  // never an empty or partial one under the target's name
  if (const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) fail(fmt::format("{}: cannot write the output to disk (fsync failed)", target_.string()));
  }
  std::error_code ec;
  std::filesystem::rename(temp_, target_, ec);
  if (ec) fail(fmt::format("{}: cannot move finished output into place: {}", target_.string(), ec.message()));
  committed_ = true;
}

void write_text_atomically(const std::filesystem::path& target, const std::string& text) {
  AtomicOutput out(target);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    f.flush();
    if (!f) fail(fmt::format("{}: write failed", out.temp_path().string()));
  }
  out.commit();
}

}  // namespace rung
