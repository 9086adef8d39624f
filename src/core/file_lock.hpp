#pragma once
// An exclusive flock on a file, held by an open descriptor and released when the object goes out of scope (or the
// process dies). One mechanism for the decision log's appends, the data set's merges and the factory's claims.
#include <filesystem>
#include <string>

namespace rung {

class FileLock {
public:
  enum class Wait { yes, no };
  // Opens `path` (created if absent) with `open_flags` added to O_RDWR | O_CREAT | O_CLOEXEC and locks it.
  // Wait::yes blocks until the lock is had; Wait::no gives up at once when another process holds it (held() is
  // false then). A file that cannot be opened or locked is a runtime error "<path>: cannot open|lock <what>: ...".
  FileLock(const std::filesystem::path& path, Wait wait, const std::string& what, int open_flags = 0);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  bool held() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Whether the locked file is still the one at `path` (not removed, nor replaced by another file there).
  bool is_file_at(const std::filesystem::path& path) const;
  void release();  // unlocks and closes now

private:
  int fd_ = -1;
};

}  // namespace rung
