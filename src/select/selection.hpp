#pragma once
// One selection: what `rung select` does per input and what rung_select() does in the C API.
// Predict (IPA, RPA, SC ± spread), decide (policy.hpp), estimate the RPA's cost (cost_model.hpp),
// and write it all down as one JSON record; launching is a separate step (launch.hpp).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/structure.hpp"
#include "core/parallel.hpp"
#include "select/cost_model.hpp"
#include "select/evidence.hpp"
#include "select/policy.hpp"
#include "select/predictor.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

// What was selected on: a structure, and the QE run it came from when there is one.
struct SelectInput {
  std::string path;                        // as given ("" for in-memory structures from the C API)
  std::string kind;                        // "qe-save", "yambo-save", "structure" or "memory"
  Structure structure;
  std::shared_ptr<const qe::Save> save;    // present for QE saves

  nlohmann::json to_json() const;
};

// A QE prefix.save (folder, its data-file-schema.xml, or a folder holding one *.save) or a structure
// file the structure readers know (CIF, POSCAR, extxyz, QE input, ...). fail_input when neither.
// A JSON-lines file gives one input per line; every other file gives one.
std::vector<SelectInput> read_select_inputs(const std::filesystem::path& path);
bool looks_like_qe_save(const std::filesystem::path& path);

struct SelectResult {
  Decision decision = Decision::uncertain;
  Evidence evidence;                       // what the decision rests on
  Prediction prediction;                   // the structure-only model's (empty when none was used)
  PolicyResult policy;
  std::optional<double> cost_cpu_seconds;  // absent when no cost model is installed
  nlohmann::json record;                   // the JSON decision log entry
};

// Decide on `evidence`. `p`/`model` (the structure-only model's prediction) may be null: a probe decides
// alone. `cost` may be absent (then the record says "uncalibrated").
SelectResult decide_one(const SelectInput& in, const Evidence& evidence, const Prediction* p, const ModelSetInfo* model,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost,
                        bool with_spectra = false);
// Decide for one prediction alone, its interval the ensemble spread (uncalibrated).
SelectResult decide_one(const SelectInput& in, const Prediction& p, const ModelSetInfo& model,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost,
                        bool with_spectra = false);

// Where the evidence comes from (doc/selection.md, "What `rung select` decides").
struct EvidenceOptions {
  bool probe = true;                   // on a QE save with empty bands, run the probe and decide on it
  std::optional<Calibration> calibration;  // the probe correction and the intervals; none: ensemble spread only
};

// One input end to end: the structure-only prediction (when `predictor` is given), the probe (on a QE
// save, when the calibration has a probe correction), the decision on the best evidence at hand, the
// record. A save without empty bands falls back to the model and the record says which nscf run gives
// the probe. fail_usage when there is no evidence at all (no predictor and no probe). Runs on `comm`
// (the probe is collective); every rank returns the same result.
SelectResult select_one(const SelectInput& in, Predictor* predictor, const EvidenceOptions& evidence,
                        const PolicyOptions& policy, const SizeOptions& size, const CostModel* cost, bool with_spectra,
                        const Comm& comm);

}  // namespace rung::select
