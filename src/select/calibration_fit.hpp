#pragma once
// `rung calibrate`: the probe correction and the intervals of evidence.hpp, fitted on a data set.
//   - the probe's SC is read from each converged label's G-block history (the factory stores SC(IPA, RPA)
//     at every block it tried, the small probe blocks included): SC at the first block >= probe_g;
//   - the correction is fitted on the training materials, its interval calibrated on the validation
//     materials (split conformal), and both are reported on validation and test: mean |ΔSC|, the
//     coverage of the interval, the decisions at each threshold, against the constant (the training mean)
//     and the structure-only model.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ml/dataset_file.hpp"
#include "select/evidence.hpp"

namespace rung::select {

class Predictor;

struct CalibrationOptions {
  std::size_t probe_g = 59;
  // the sub-block of the movement term (ProbeCorrection::gamma), e.g. 27; 0: the one-block form (the default:
  // on round 7 the term narrows the interval by 8 % but gets no more materials right, doc/selection.md)
  std::size_t second_g = 0;
  double coverage = 0.9;
  std::vector<double> thresholds{0.8, 0.85, 0.9};
  std::optional<std::filesystem::path> split_dir;  // {train,validation,test}_set.txt; else the formula hash
};

struct CalibrationRow {
  std::string id, formula, subset;  // subset: "train", "validation" or "test"
  double label = 0;                 // the converged SC(IPA, RPA)
  double sc_probe = 0;              // SC at the probe block (from the label's history)
  double sc_second = 0;             // SC at the sub-block (= sc_probe when the history has none below the probe)
  std::size_t probe_n_g = 0, label_n_g = 0, second_n_g = 0;
  std::vector<std::pair<std::size_t, double>> blocks;  // the label's G-block history: (n_g, SC), ascending
  double probe_sc = 0;              // the corrected probe prediction
  std::optional<double> model_sc;   // the structure-only model's SC, when a model was given
};

// Every labelled material for the structure-only model, whether or not its history holds the probe block.
struct ModelRow {
  std::string id, formula, subset;
  double label = 0;
  std::optional<double> model_sc;  // the model's SC (validation and test materials)
  std::optional<double> cv_sc;     // a training material's SC from the fold model trained without it
};

// One cross-validation fold of the structure-only model: a model trained without the `held_out` training
// materials (tools/cv_folds.sh).
struct CvFold {
  Predictor* model = nullptr;
  std::vector<std::string> held_out;
  std::string name;  // for messages
};

struct CalibrationFit {
  Calibration calibration;
  std::vector<CalibrationRow> rows;
  std::vector<ModelRow> model_rows;
  std::size_t skipped_unconverged_rule = 0;  // labels without a G-block history of the current rule
};

// The probe's SC from one material's provenance (its "rpa_provenance"."convergence"): SC(IPA, RPA) at the
// first block of at least `probe_g` G-vectors among the probes and the ladder (at most 1.5 probe_g, else
// it does not stand for the probe); nullopt when that block is missing or the
// provenance has no history of the current convergence rule. With second_g > 0 also SC at the first block
// of at least second_g G below the probe block (what the probe's sub-block gives); without one, the probe's.
struct ProbePoint {
  std::size_t n_g = 0, label_n_g = 0, second_n_g = 0;
  double sc = 0, sc_second = 0;
  std::vector<std::pair<std::size_t, double>> blocks;  // (n_g, SC) of every block the history holds, ascending
};
std::optional<ProbePoint> probe_from_provenance(const nlohmann::json& provenance, std::size_t probe_g,
                                                std::size_t second_g = 0);

// Fits the correction (alpha, beta >= 0) to pairs (probe SC, converged SC) by least squares in 1 - SC.
ProbeCorrection fit_probe_correction(const std::vector<double>& sc_probe, const std::vector<double>& sc_converged,
                                     std::size_t probe_g);
// With the movement term: least squares in alpha, beta, gamma; when that gives alpha < 0 or beta < 0, the
// one-block fit above (gamma = 0).
ProbeCorrection fit_probe_correction(const std::vector<double>& sc_probe, const std::vector<double>& sc_second,
                                     const std::vector<double>& sc_converged, std::size_t probe_g,
                                     std::size_t second_g);

// `model` may be null (no structure-only interval then). The model's interval is calibrated on every labelled
// validation material, and with `folds` also on the training materials they hold out (each predicted by its
// fold's model: cross-validation residuals, many more than the validation set has); fail_input when a fold
// holds out a validation or test material, or two folds hold out the same one.
CalibrationFit fit_calibration(const OptimateDataset& data, const CalibrationOptions& options, Predictor* model,
                               const std::vector<CvFold>& folds = {});

// The report as a Markdown table (what `rung calibrate` prints and doc/selection.md shows).
std::string calibration_table(const Calibration& c);

}  // namespace rung::select
