#pragma once
// rung's C++ API: everything under include/rung/. The C API is rung/rung.h, the Fortran module `rung`
// (include/rung/fortran). What these headers include from rung's source layers is installed with them under
// include/rung/detail/ and is not an interface of its own: include the headers of this folder.
#include "rung/errors.hpp"
#include "rung/metrics.hpp"
#include "rung/requests.hpp"
#include "rung/spectrum.hpp"
#include "rung/structure.hpp"
#include "rung/version.hpp"
