#include "select/native_spectrum.hpp"

#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "response/spectrum_driver.hpp"

namespace rung::select {

SpectrumSet compute_native_spectrum(const qe::Save& save, const response::SpectrumRequest& request, const Comm& comm) {
  return response::compute_spectrum(request, save.dir, comm, "rung C API / rung select --launch native");
}

SpectrumSet compute_native_spectrum(const qe::Save& save, const response::SpectrumRequest& request, const Comm& comm,
                                    const std::vector<std::size_t>& sub_block_probes) {
  auto o = request.to_options(save.dir);
  o.command_line = "rung select (probe)";
  o.sub_block_probes = sub_block_probes;
  auto set = response::compute_spectrum(o, comm).set;
  set.provenance["request"] = request.to_json();
  return set;
}

SpectrumSet compute_native_spectrum(const qe::Save& save, const std::string& theory, const nlohmann::json& options,
                                    const Comm& comm) {
  // the solver's own reading of a theory (any case: "RPA", as a Fortran caller may write it), under its canonical name
  response::Theory t = response::Theory::ipa;
  try {
    t = response::parse_theory(theory);
  } catch (const Error&) {
    fail_usage("theory must be \"ipa\" or \"rpa\", not \"" + theory + "\"");
  }
  auto request = response::SpectrumRequest::from_json(options);
  request.theory = t == response::Theory::rpa ? "rpa" : "ipa";
  return compute_native_spectrum(save, request, comm);
}

}  // namespace rung::select
