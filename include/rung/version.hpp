#pragma once
// rung's version (rung::version_string), as the library was built.
#include "core/version.hpp"
