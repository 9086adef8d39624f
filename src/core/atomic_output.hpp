#pragma once
// Outputs are written to a temporary file beside the target and renamed into place only when
// complete, so an error or a kill never leaves a half-written result under the final name.
#include <filesystem>

namespace rung {

// What AtomicOutput's constructor checks of a target: its folder exists and can be written to, and the target is not
// itself a folder. fail_usage naming the target otherwise. A command calls it for each of its outputs right after
// parsing, before any long work, so that a mistyped path fails at once rather than after the work is done.
void check_output_path(const std::filesystem::path& target);

class AtomicOutput {
public:
  explicit AtomicOutput(std::filesystem::path target);  // check_output_path(target) first
  ~AtomicOutput();  // removes the temporary file unless commit() was called
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();  // rename temp -> target (atomic on POSIX within one file system)

private:
  std::filesystem::path target_, temp_;
  bool committed_ = false;
};

// Writes `text` atomically to `target`.
void write_text_atomically(const std::filesystem::path& target, const std::string& text);

}  // namespace rung
