#include "select/selection.hpp"
#include "core/timestamp.hpp"

#include "core/error.hpp"
#include "core/version.hpp"
#include "io/qe/save.hpp"

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

SelectResult decide_one(const SelectInput& in, const Evidence& evidence, const Prediction* p, const ModelSetInfo* model,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost,
                        bool with_spectra) {
  SelectResult r;
  r.evidence = evidence;
  if (p) r.prediction = *p;
  r.policy = decide(evidence, policy);
  r.decision = r.policy.decision;

  const RpaSize rpa_size = in.save ? estimate_size(*in.save, size) : estimate_size(in.structure, size);
  // (the cost model is fitted to rung's own RPA runs: a YAMBO launch of the same block costs several times more,
  // 11-19x at 59-113 G on Si in YAMBO 5.2.4's serial runs, plus p2y and its set-up)
  nlohmann::json cost_json{{"system_size", rpa_size.to_json()}, {"solver", "rung (native)"}};
  if (size.block_cutoff_Ry > 0) cost_json["block_cutoff_Ry"] = size.block_cutoff_Ry;
  else
    cost_json["block"] = fmt::format(
        "converged: the sweep up to the first closed shell of at least {} G (where most "
        "of the data set's labels end)",
        size.converged_block_g);
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
  if (model) {
    j["model"] = model->to_json();
    if (model->untrained)
      j["warning"] = "the model file is marked untrained (random weights from `rung train --epochs 0`): "
                     "its predictions and this decision exercise the machinery only and mean nothing physically";
  }
  j["evidence"] = evidence.to_json();
  if (p) j["prediction"] = p->to_json(with_spectra);
  j["policy"] = {{"threshold", policy.threshold}, {"spread_factor", policy.spread_factor},
                 {"max_spread", policy.max_spread}, {"interval", {r.policy.lower, r.policy.upper}}};
  j["decision"] = to_string(r.decision);
  j["reason"] = r.policy.reason;
  j["rpa_cost_estimate"] = cost_json;
  j["launch"] = {{"mode", "none"}, {"status", "not requested"}};
  return r;
}

SelectResult decide_one(const SelectInput& in, const Prediction& p, const ModelSetInfo& model,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost,
                        bool with_spectra) {
  return decide_one(in, model_evidence(p, std::nullopt), &p, &model, policy, size, cost, with_spectra);
}

SelectResult select_one(const SelectInput& in, Predictor* predictor, const EvidenceOptions& eo,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost, bool with_spectra,
                        const Comm& comm) {
  std::optional<Prediction> prediction;
  std::optional<Evidence> from_model, from_probe;
  const auto t0 = std::chrono::steady_clock::now();
  if (predictor) {
    prediction = predictor->predict({in.structure}).at(0);
    std::optional<ModelInterval> interval;
    if (eo.calibration && eo.calibration->model && eo.calibration->model->model_identity == predictor->info().identity())
      interval = eo.calibration->model;  // calibrated for this very model
    from_model = model_evidence(*prediction, interval);
  }
  const double predict_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json probe_note;
  if (in.save && eo.probe) {
    if (eo.calibration && eo.calibration->probe) {
      try {
        from_probe = probe_evidence(*in.save, *eo.calibration->probe, comm);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::input) throw;
        if (!predictor)
          throw Error(ErrorKind::input,
                      std::string("no evidence: the probe cannot run (") + e.what() +
                          "), and no model was given to decide instead",
                      e.file());
        probe_note = e.what();  // e.g. a save without empty bands: the model decides, the record says why
      }
    } else {
      probe_note = "no probe correction (share/models/calibration.json): the model decides";
    }
  }
  if (!from_probe && !from_model)
    fail_usage(in.save ? "no evidence: give a model, or a calibration with a probe correction for the QE save"
                       : "no evidence: a structure needs a model (built with LibTorch)");
  Evidence ev = from_probe ? *from_probe : *from_model;
  if (from_probe && from_model) ev.details["model_cross_check"] = from_model->to_json();
  if (!probe_note.is_null()) ev.details["probe_not_run"] = probe_note;
  auto r = decide_one(in, ev, prediction ? &*prediction : nullptr, predictor ? &predictor->info() : nullptr, policy,
                      size, cost, with_spectra);
  r.record["timings_s"] = {{"predict", predict_s}};
  if (from_probe) r.record["timings_s"]["probe"] = from_probe->details["cost"]["wall_s"];
  return r;
}

}  // namespace rung::select
