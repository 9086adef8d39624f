#pragma once
// What rung is asked, one typed request per capability, each with its canonical keys (from_json/to_json,
// keys(), errors naming the key): the native solver (compute_spectrum), the selection (rung select; the C API's
// rung_select runs it) and the data-set factory. doc/solver.md, doc/selection.md and doc/dataset.md list the keys.
#include "core/parallel.hpp"
#include "io/spectra/file.hpp"
#include "response/spectrum_request.hpp"
#include "select/select_request.hpp"
#include "dataset/factory_request.hpp"
