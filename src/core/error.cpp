#include "core/error.hpp"

namespace rung {

void fail(const std::string& message) { throw Error(ErrorKind::runtime, message); }

void fail_input(const std::filesystem::path& file, const std::string& what) {
  throw Error(ErrorKind::input, file.string() + ": " + what, file);
}

void fail_usage(const std::string& message) { throw Error(ErrorKind::usage, message); }

void fail_missing(const std::filesystem::path& file, const std::string& what) { throw MissingFile(file, what); }

void require_exists(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return;
  // (a path that cannot be looked at is no missing file: "permission denied" is the answer to give)
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    fail_input(file, "cannot be looked at: " + ec.message());
  fail_missing(file);
}

}  // namespace rung
