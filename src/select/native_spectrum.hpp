#pragma once
// The native IPA/RPA solver (src/response) as the selection layer, the data-set factory and the C API call
// it: a typed request (response/spectrum_request.hpp: the canonical keys, doc/solver.md), results as a
// SpectrumSet with provenance (the request among it) and timings.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "io/spectra/file.hpp"
#include "response/spectrum_request.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

// The RPA converges its G block unless the request gives one (SpectrumRequest::to_options).
// Throws FeatureUnavailable when rung was built without the native solver.
SpectrumSet compute_native_spectrum(const qe::Save& save, const response::SpectrumRequest& request, const Comm& comm);
// The same on a given RPA block, with SC(IPA, RPA) of leading sub-blocks of at least these counts in the
// provenance's "sub_block_probes" (response::SpectrumOptions::sub_block_probes; one small Dyson solve each).
SpectrumSet compute_native_spectrum(const qe::Save& save, const response::SpectrumRequest& request, const Comm& comm,
                                    const std::vector<std::size_t>& sub_block_probes);

// The same from JSON options over the canonical keys (the C API); `theory` ("ipa" or "rpa") wins over
// an option of that name. An unknown key or a bad value is a usage error naming the key.
SpectrumSet compute_native_spectrum(const qe::Save& save, const std::string& theory,
                                    const nlohmann::json& options, const Comm& comm);

}  // namespace rung::select
