#pragma once
// One way to raise an error in rung (as gemmi does): rung::fail / rung::fail_input (rung::fail_missing for a file
// that is not there).
// Bad user input (missing, truncated, inconsistent or unsupported files) is an InputError: the CLI
// prints its one-line message and exits with code 2; anything else exits with code 1.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace rung {

enum class ErrorKind { runtime = 1, input = 2, usage = 3 };

class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, std::string message, std::filesystem::path file = {})
      : std::runtime_error(std::move(message)), kind_(kind), file_(std::move(file)) {}
  ErrorKind kind() const noexcept { return kind_; }
  const std::filesystem::path& file() const noexcept { return file_; }
  int exit_code() const noexcept { return static_cast<int>(kind_); }

private:
  ErrorKind kind_;
  std::filesystem::path file_;
};

// A failure that is not the user's input (internal limits, I/O on our own outputs, ...).
[[noreturn]] void fail(const std::string& message);
// The user's input file `file` is missing, malformed or unsupported; `what` says how.
// The message reads "<file>: <what>".
[[noreturn]] void fail_input(const std::filesystem::path& file, const std::string& what);
// An option or argument combination that cannot work (no file involved).
[[noreturn]] void fail_usage(const std::string& message);

// A feature this build of rung does not have (LibTorch off, no PLplot, no native solver): a runtime error
// for the CLI (exit code 1), RUNG_ERR_UNAVAILABLE for the C API.
class FeatureUnavailable : public Error {
public:
  explicit FeatureUnavailable(const std::string& message) : Error(ErrorKind::runtime, message) {}
};
[[noreturn]] inline void fail_unavailable(const std::string& message) { throw FeatureUnavailable(message); }

// The host asked rung to stop (core/runtime.hpp's interrupt check: the Python module's Ctrl-C). Raised by a long
// loop between two of its steps, on the thread that started it; whoever catches errors per item (a batch of
// inputs, a launch) lets it through, so the whole call ends. rung's own outputs are written to a temporary file and
// renamed only at the end, so none is left half-written; a stopped child command (a YAMBO launch) leaves its work
// folder as it was when stopped.
class Interrupted : public Error {
public:
  Interrupted() : Error(ErrorKind::runtime, "interrupted") {}
};

// A file the caller named does not exist: an input error like any other (exit code 2, RUNG_ERR_INPUT), told apart
// so that a Python host gets FileNotFoundError. The message reads "<file>: <what>".
class MissingFile : public Error {
public:
  MissingFile(const std::filesystem::path& file, const std::string& what)
      : Error(ErrorKind::input, file.string() + ": " + what, file) {}
};
[[noreturn]] void fail_missing(const std::filesystem::path& file, const std::string& what = "does not exist");

// Throws fail_missing(file) unless `file` exists (regular file or directory).
void require_exists(const std::filesystem::path& file);

}  // namespace rung
