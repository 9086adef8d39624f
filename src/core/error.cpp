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
  if (!std::filesystem::exists(file, ec)) fail_missing(file);
}

}  // namespace rung
