#pragma once
// The native IPA/RPA solver (src/response) as the selection layer and the C API call it: one
// function, options as JSON (the keys are documented in doc/c-api.md), results as a SpectrumSet
// with provenance and timings.
#include <nlohmann/json.hpp>

#include <string>

#include "core/parallel.hpp"
#include "io/spectrum_file.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

// theory "ipa" or "rpa" (the RPA with G-block convergence unless options say otherwise).
// Throws FeatureUnavailable when rung was built without the native solver.
SpectrumSet compute_native_spectrum(const qe::Save& save, const std::string& theory,
                                    const nlohmann::json& options, const Comm& comm);

}  // namespace rung::select
