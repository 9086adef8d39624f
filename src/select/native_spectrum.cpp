#include "select/native_spectrum.hpp"

#include "core/error.hpp"
#include "io/qe_save.hpp"
#include "response/spectrum_driver.hpp"

#include <set>

namespace rung::select {

namespace {

template <class T>
T get(const nlohmann::json& o, const char* key, T fallback) {
  if (!o.contains(key)) return fallback;
  try {
    return o.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail_usage(std::string("option \"") + key + "\" has the wrong type");
  }
}

}  // namespace

SpectrumSet compute_native_spectrum(const qe::Save& save, const std::string& theory, const nlohmann::json& options,
                                    const Comm& comm) {
  if (theory != "ipa" && theory != "rpa") fail_usage("theory must be \"ipa\" or \"rpa\", not \"" + theory + "\"");
  static const std::set<std::string> known = {"emin_eV", "emax_eV", "steps",  "broadening_eV", "block",
                                              "converge", "converge_sc", "converge_start", "max_block", "bands", "directions",
                                              "include_vnl", "progress"};
  for (const auto& [k, v] : options.items())
    if (!known.count(k)) fail_usage("unknown spectrum option \"" + k + "\"");

  response::SpectrumOptions o;
  o.input = save.dir;
  o.theory = response::parse_theory(theory);
  o.grid.emin_eV = get(options, "emin_eV", o.grid.emin_eV);
  o.grid.emax_eV = get(options, "emax_eV", o.grid.emax_eV);
  o.grid.steps = get<std::size_t>(options, "steps", o.grid.steps);
  o.eta_eV = get(options, "broadening_eV", o.eta_eV);
  o.include_vnl = get(options, "include_vnl", o.include_vnl);
  o.show_progress = get(options, "progress", false);
  if (options.contains("block")) {
    const auto& b = options.at("block");
    o.gblock = response::GBlockRequest::parse(b.is_string() ? b.get<std::string>() : std::to_string(b.get<long>()));
  }
  // The RPA converges its G block unless a block is given (the paper's protocol, done rung's way).
  o.converge.enabled = o.theory == response::Theory::rpa && get(options, "converge", !o.gblock.has_value());
  o.converge.sc_threshold = get(options, "converge_sc", o.converge.sc_threshold);
  if (options.contains("converge_start")) {
    const auto& b = options.at("converge_start");
    o.converge.start =
        response::GBlockRequest::parse(b.is_string() ? b.get<std::string>() : std::to_string(b.get<long>()));
  }
  // (the sweep's largest block is capped by the wavefunction sphere inside the solver)
  if (options.contains("max_block")) {
    const auto& b = options.at("max_block");
    o.converge.max_block =
        response::GBlockRequest::parse(b.is_string() ? b.get<std::string>() : std::to_string(b.get<long>()));
  }
  if (options.contains("bands")) {
    const auto b = get<std::vector<int>>(options, "bands", {});
    if (b.size() != 2 || b[0] < 1 || b[1] < b[0]) fail_usage("option \"bands\" must be [first, last], 1-based");
    o.band_first = b[0] - 1;
    o.band_last = b[1] - 1;
  }
  for (const auto& d : get<std::vector<std::string>>(options, "directions", {}))
    o.directions.push_back(response::parse_field_direction(d));
  o.command_line = "rung C API / rung select --launch native";
  return response::compute_spectrum(o, comm).set;
}

}  // namespace rung::select
