#include "select/native_spectrum.hpp"

#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "response/spectrum_driver.hpp"

namespace rung::select {

SpectrumSet compute_native_spectrum(const qe::Save& save, const response::SpectrumRequest& request, const Comm& comm) {
  return response::compute_spectrum(request, save.dir, comm, "rung C API / rung select --launch native");
}

SpectrumSet compute_native_spectrum(const qe::Save& save, const std::string& theory, const nlohmann::json& options,
                                    const Comm& comm) {
  if (theory != "ipa" && theory != "rpa") fail_usage("theory must be \"ipa\" or \"rpa\", not \"" + theory + "\"");
  auto request = response::SpectrumRequest::from_json(options);
  request.theory = theory;
  return compute_native_spectrum(save, request, comm);
}

}  // namespace rung::select
