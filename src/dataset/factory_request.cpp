#include "dataset/factory_request.hpp"

#include "core/energy_grid.hpp"
#include "core/error.hpp"
#include "core/request_json.hpp"
#include "response/spectrum_driver.hpp"

#include <fmt/format.h>

namespace rung::dataset {

const char* to_string(Tier t) { return t == Tier::lite ? "lite" : "full"; }

Tier parse_tier(const std::string& s) {
  if (s == "full") return Tier::full;
  if (s == "lite") return Tier::lite;
  fail_usage("option \"tier\" must be full or lite, not '" + s + "'");
}

void read(const char* key, const nlohmann::json& v, Tier& out) {
  if (!v.is_string()) request_json::wrong_type(key, "\"full\" or \"lite\"", v);
  out = parse_tier(v.get<std::string>());
}

void to_json(nlohmann::json& j, const Tier& t) { j = to_string(t); }

FactoryRequest FactoryRequest::from_json(const nlohmann::json& options) {
  return request_json::from_json<FactoryRequest>(options, "dataset");
}

nlohmann::json FactoryRequest::to_json() const {
  nlohmann::json j = request_json::to_json(*this);
  j["scf_kppa"] = scf_kppa_used();
  j["nscf_kppa"] = nscf_kppa_used();
  return j;
}

std::vector<std::string> FactoryRequest::keys() { return request_json::keys<FactoryRequest>(); }

void FactoryRequest::validate() const {
  const auto positive = [](const char* key, double v) {
    if (!(v > 0)) fail_usage(fmt::format("option \"{}\" must be positive, not {:g}", key, v));
  };
  if (max_atoms < 1) fail_usage(fmt::format("option \"max_atoms\" must be at least 1, not {}", max_atoms));
  if (ecutwfc_Ry) positive("ecutwfc_Ry", *ecutwfc_Ry);
  positive("scf_kppa", scf_kppa_used());
  positive("nscf_kppa", nscf_kppa_used());
  positive("window_eV", window_eV);
  positive("scf_conv_thr_Ry", scf_conv_thr_Ry);
  positive("nscf_conv_thr_Ry", nscf_conv_thr_Ry);
  positive("nscf_band_headroom", nscf_band_headroom);
  positive("broadening_eV", broadening_eV);
  positive("symprec_angstrom", symprec_angstrom);
  if (keep_scf_max_atoms < 0)
    fail_usage(fmt::format("option \"keep_scf_max_atoms\" must not be negative, not {}", keep_scf_max_atoms));
  if (qe_ranks < 1) fail_usage(fmt::format("option \"qe_ranks\" must be at least 1, not {}", qe_ranks));
  if (pw_command.empty()) fail_usage("option \"pw_command\" must not be empty");
  // the solver's own checks (e.g. its step at most a third of the broadening) before any pw.x run: found only
  // after the scf and nscf, each material would be recorded failed for good
  solver_request({'x'}, 1).to_options("the factory's solver options");
}

response::SpectrumRequest FactoryRequest::solver_request(const std::vector<char>& directions,
                                                         int bands_in_window) const {
  const EnergyGrid grid = EnergyGrid::paper_default();
  response::SpectrumRequest req = solver;
  if (!req.solver_step_eV) req.solver_step_eV = factory_solver_step_eV;  // an explicit 0: every frequency
  req.directions.clear();
  for (char d : directions) req.directions.push_back(std::string(1, d));
  req.broadening_eV = broadening_eV;
  req.emin_eV = grid.emin_eV;
  req.emax_eV = grid.emax_eV;
  req.steps = grid.steps;
  req.bands = fmt::format("1:{}", bands_in_window);  // 1-based, every band up to VBM + window
  return req;
}

}  // namespace rung::dataset
