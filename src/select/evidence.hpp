#pragma once
// The evidence a decision rests on: SC(IPA, RPA) with an interval of stated coverage, and where it
// came from (doc/selection.md, "What `rung select` decides"):
//
//   qe-probe  a QE run is at hand: rung's own IPA and an RPA on a small G block (the probe), turned
//             into a prediction of the converged SC by a correction fitted on the data set;
//   model     structure only: the OPTIMATE prediction, with an interval calibrated on the data set's
//             validation materials (split conformal) or, without a calibration, the ensemble spread;
//   caller    the C API's rung_decide: the caller's own SC and interval.
//
// SC(IPA, RPA) is the data set's: 1 - ∫|IPA - RPA| / ∫|IPA| on the trace (IPA as the reference).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "core/parallel.hpp"

namespace rung::qe { struct Save; }

namespace rung::ml { struct Prediction; }

namespace rung::select {

using ml::Prediction;  // ml/prediction.hpp

// The correction from a probe's SC to the converged SC. Linear in 1 - SC with a non-negative
// intercept and slope, and (when second_g > 0) the movement from the probe's leading sub-block of
// second_g G (SC_second, one small Dyson solve on the probe's chi0) to the probe block:
//   1 - SC_converged = alpha + beta · (1 - SC_probe) + gamma · (SC_second - SC_probe),
// capped at SC = 1 (with gamma = 0 the cap never acts: alpha, beta >= 0).
struct ProbeCorrection {
  std::size_t probe_g = 59;   // the probe's block: the first closed shell with at least this many G
  double alpha = 0, beta = 1;
  double half_width = 0;      // split-conformal half-width of the interval at `coverage`
  double coverage = 0.9;      // nominal coverage of [SC - half_width, SC + half_width]
  std::size_t n_fit = 0, n_calibration = 0;
  std::size_t second_g = 0;  // the sub-block of the movement term (first shell >= second_g); 0: none
  double gamma = 0;

  // SC_second: SC at the sub-block; SC_probe itself when the sub-block is the probe block (no movement).
  double predict(double sc_probe, double sc_second) const;
  double predict(double sc_probe) const { return predict(sc_probe, sc_probe); }
};

// The interval of the structure-only model's SC: split conformal on the residuals of the validation materials
// and, with cross-validation folds (`rung calibrate --cv-folds`), of the training materials, each predicted by a
// model trained without it.
struct ModelInterval {
  std::string model_identity;  // ModelSetInfo::identity() of the model it was calibrated for
  double half_width = 0;
  double coverage = 0.9;
  std::size_t n_calibration = 0;       // validation residuals
  std::size_t n_cross_validation = 0;  // out-of-fold residuals of training materials (0: none)
  std::size_t folds = 0;

  std::string method() const;  // what the record and the table print
};

// What `rung calibrate` writes (share/models/calibration.json): the probe correction and the model's
// interval, with the report of the fit (counts, test coverage, accuracy table).
struct Calibration {
  std::optional<ProbeCorrection> probe;
  std::optional<ModelInterval> model;
  nlohmann::json report = nlohmann::json::object();
  std::filesystem::path path;  // where it was read from ("" when made in memory)

  nlohmann::json to_json() const;
  // fail_input naming `source` when a key is missing or a value is out of range.
  static Calibration from_json(const nlohmann::json& j, const std::string& source);
  static Calibration load(const std::filesystem::path& file);
  // share/models/calibration.json when it exists; a file that exists but is broken is an error.
  static std::optional<Calibration> load_default();
};

struct Evidence {
  std::string source;         // "qe-probe", "model" or "caller"
  double sc = 0;              // the SC the decision rests on
  double lower = 0, upper = 0;
  double coverage = 0;        // nominal coverage of [lower, upper]; 0: not calibrated (an ensemble spread)
  nlohmann::json details = nlohmann::json::object();  // probe block, cost, raw probe SC, model prior ...

  nlohmann::json to_json() const;
};

// True when `save` holds only its occupied bands (a plain scf of an insulator): neither the probe nor an RPA
// can use it.
bool only_occupied_bands(const qe::Save& save);
// What to run on such a save: the nscf, with a starting nbnd from the data set's density of empty bands.
std::string nscf_advice(const qe::Save& save);
// Where the save's bands stop: the lowest energy over the k-points (and spins) of its highest band, above the
// valence-band top (an insulator) or the Fermi level (eV); none when the save gives neither.
std::optional<double> band_window_eV(const qe::Save& save);
// A warning when the save's bands stop below paper::emax_eV above the valence-band top (an scf with QE's few extra
// bands, a smeared run): transitions beyond that are missing from the 0-20 eV spectra and their SC(IPA, RPA), and
// the nscf advice; "" when the window is whole or unknown.
std::string band_window_warning(const qe::Save& save);

// Runs the probe on `save`: the native RPA on the probe block along x, y and z (its spectrum without
// local fields is the IPA), SC of the traces, corrected. fail_input naming the save when it has no
// empty bands (the message says which nscf run gives them). Collective over `comm`.
Evidence probe_evidence(const qe::Save& save, const ProbeCorrection& correction, const Comm& comm);

// The structure-only model's SC as evidence: with a calibrated interval when `interval` is given,
// else SC ± the ensemble spread (coverage 0: not calibrated).
Evidence model_evidence(const Prediction& p, const std::optional<ModelInterval>& interval);

// The smallest residual r such that at least a fraction `coverage` of future residuals is expected at
// or below it (split conformal: the ceil((n + 1) · coverage)-th smallest of n calibration residuals);
// +Inf when n is too small for that coverage.
double conformal_half_width(std::vector<double> residuals, double coverage);

}  // namespace rung::select
