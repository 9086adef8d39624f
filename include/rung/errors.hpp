#pragma once
// rung's one error model: rung::Error with its kind (input, usage, runtime) and exit code, fail_input/fail_usage/fail.
#include "core/error.hpp"
