#include "core/atomic_output.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <unistd.h>

namespace rung {

namespace {
std::filesystem::path folder_of(const std::filesystem::path& target) {
  return target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
}
}  // namespace

void check_output_path(const std::filesystem::path& target) {
  if (target.empty()) fail_usage("an output file name is empty");
  const auto dir = folder_of(target);
  std::error_code ec;
  // (the folder of an output is the caller's choice: a missing one is a usage error, named)
  if (!std::filesystem::is_directory(dir, ec))
    fail_usage(fmt::format("{}: cannot write it, its folder {} does not exist", target.string(), dir.string()));
  if (std::filesystem::is_directory(target, ec))
    fail_usage(fmt::format("{}: cannot write it, it is a folder", target.string()));
  // the temporary file is created in the folder, and renamed there
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    fail_usage(fmt::format("{}: cannot write it, its folder {} is not writable ({})", target.string(), dir.string(),
                           std::strerror(errno)));
}

AtomicOutput::AtomicOutput(std::filesystem::path target) : target_(std::move(target)) {
  check_output_path(target_);
  const auto dir = folder_of(target_);
  std::random_device rd;
  // The temporary name keeps at most 200 bytes of the target's (NAME_MAX is 255 with the suffix)
  std::string stem = target_.filename().string();
  if (stem.size() > 200) stem.resize(200);
  temp_ = dir / fmt::format(".{}.tmp-{}-{:x}", stem, ::getpid(), rd());
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
    errno = 0;
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    f.flush();
    // close() writes what the stream still holds and can fail too (a full disk, a network file system's quota)
    if (f) f.close();
    // (named by the target, with the system's reason: "No space left on device", "Permission denied")
    if (!f)
      fail(fmt::format("{}: cannot write it ({})", target.string(), errno ? std::strerror(errno) : "write error"));
  }
  out.commit();
}

}  // namespace rung
