#pragma once
// FeatureUnavailable lives in core/error.hpp (the one error model); the selection layer's names for it.
#include "core/error.hpp"

namespace rung::select {
using rung::FeatureUnavailable;
using rung::fail_unavailable;
}  // namespace rung::select
