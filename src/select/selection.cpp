#include "select/selection.hpp"
#include "core/timestamp.hpp"

#include "core/error.hpp"
#include "core/version.hpp"
#include "io/qe_save.hpp"

#include <chrono>
#include <ctime>
#include <fmt/format.h>

namespace rung::select {

nlohmann::json SelectInput::to_json() const {
  nlohmann::json j{{"path", path}, {"kind", kind}, {"formula", structure.formula()},
                   {"natoms", structure.size()}, {"volume_bohr3", structure.volume()}};
  if (!structure.id.empty()) j["id"] = structure.id;
  if (save) {
    j["qe_prefix"] = save->prefix;
    j["qe_version"] = save->qe_version;
    j["nbnd"] = save->nbnd;
    j["nk_irreducible"] = save->nk();
  }
  return j;
}

bool looks_like_qe_save(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return true;  // prefix.save or a folder holding one
  return path.filename() == "data-file-schema.xml";
}

SelectResult decide_one(const SelectInput& in, const Prediction& p, const ModelInfo& model,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost,
                        bool with_spectra) {
  SelectResult r;
  r.prediction = p;
  r.policy = decide(p.sc, p.sc_spread, policy);
  r.decision = r.policy.decision;

  const RpaSize rpa_size = in.save ? estimate_size(*in.save, size) : estimate_size(in.structure, size);
  nlohmann::json cost_json{{"system_size", rpa_size.to_json()}, {"block_cutoff_Ry", size.block_cutoff_Ry}};
  if (cost) {
    const double s = cost->cpu_seconds(rpa_size);
    r.cost_cpu_seconds = s;
    cost_json["cpu_seconds"] = s;
    cost_json["cpu_hours"] = s / 3600.0;
    cost_json["calibration"] = {{"machine", cost->machine},
                                {"points", cost->points.size()},
                                {"median_relative_error", cost->median_relative_error}};
  } else {
    cost_json["cpu_seconds"] = nullptr;
    cost_json["calibration"] = "uncalibrated: no share/cost_model.json";
  }

  auto& j = r.record;
  j["rung_version"] = version_string;
  j["created"] = rung::utc_now_iso8601();
  j["input"] = in.to_json();
  j["model"] = model.to_json();
  if (model.untrained)
    j["warning"] = "the model file is marked untrained (random weights from `rung train --epochs 0`): "
                   "its predictions and this decision exercise the machinery only and mean nothing physically";
  j["prediction"] = p.to_json(with_spectra);
  j["policy"] = {{"threshold", policy.threshold}, {"spread_factor", policy.spread_factor},
                 {"max_spread", policy.max_spread}, {"interval", {r.policy.lower, r.policy.upper}}};
  j["decision"] = to_string(r.decision);
  j["reason"] = r.policy.reason;
  j["rpa_cost_estimate"] = cost_json;
  j["launch"] = {{"mode", "none"}, {"status", "not requested"}};
  return r;
}

}  // namespace rung::select
