#pragma once
// A feature this build of rung does not have (LibTorch off, no PLplot, no native solver): a runtime
// error for the CLI (exit code 1), RUNG_ERR_UNAVAILABLE for the C API.
#include "core/error.hpp"

namespace rung::select {

class FeatureUnavailable : public Error {
public:
  explicit FeatureUnavailable(const std::string& message) : Error(ErrorKind::runtime, message) {}
};

[[noreturn]] inline void fail_unavailable(const std::string& message) { throw FeatureUnavailable(message); }

}  // namespace rung::select
