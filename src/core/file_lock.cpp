#include "core/file_lock.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rung {

FileLock::FileLock(const std::filesystem::path& path, Wait wait, const std::string& what, int open_flags) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | open_flags, 0644);
  if (fd_ < 0) fail(fmt::format("{}: cannot open {}: {}", path.string(), what, std::strerror(errno)));
  while (::flock(fd_, LOCK_EX | (wait == Wait::no ? LOCK_NB : 0)) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    release();
    if (wait == Wait::no && err == EWOULDBLOCK) return;  // another process holds it
    fail(fmt::format("{}: cannot lock {}: {}", path.string(), what, std::strerror(err)));
  }
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FileLock::is_file_at(const std::filesystem::path& path) const {
  struct stat locked {
  }, at_path{};
  return fd_ >= 0 && ::fstat(fd_, &locked) == 0 && ::stat(path.c_str(), &at_path) == 0 &&
         locked.st_dev == at_path.st_dev && locked.st_ino == at_path.st_ino;
}

}  // namespace rung
