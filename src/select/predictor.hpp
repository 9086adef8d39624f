#pragma once
// What the selection needs from a spectrum predictor, kept abstract so that the policy and the
// C API can be tested with a synthetic predictor and so that rung builds without LibTorch (the ML
// model sits behind load_model_predictor, which says clearly when it is not available).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/structure.hpp"
#include "ml/predictor.hpp"

namespace rung::select {

// One material's prediction: Im eps of the trace on the paper's grid, and the similarity.
struct Prediction {
  std::vector<double> energy_eV;
  std::vector<double> ipa, rpa;               // Im eps (trace), same length as energy_eV
  std::vector<double> ipa_spread, rpa_spread;  // ensemble spread per point (may be empty)
  double sc = 0;                               // SC(IPA, RPA), RPA as the reference (doc/selection.md)
  double sc_spread = 0;                        // ensemble spread of that SC
  std::vector<std::string> warnings;           // why the structure lies outside the models' training domain

  nlohmann::json to_json(bool with_spectra) const;
};

// Model file provenance as it goes into every decision log.
struct ModelInfo {
  std::string path, version, kind;  // kind: "optimate" (LibTorch), "synthetic", ...
  bool untrained = false;           // metadata marks random weights (`rung train --epochs 0`)
  int ensemble_size = 1;
  nlohmann::json metadata;          // whatever else the model file says about itself

  nlohmann::json to_json() const;
  // A short hash of what the model files say about their training (not of their paths): a calibration
  // made for one model applies to that model only.
  std::string identity() const;
};

class Predictor {
public:
  virtual ~Predictor() = default;
  virtual std::vector<Prediction> predict(const std::vector<Structure>& structures) = 0;
  virtual const ModelInfo& info() const = 0;
};

// rung's OPTIMATE ensemble from a model file (empty path: share/models/default). Throws rung::Error
// naming the file when it is missing or malformed; when rung was built without LibTorch it throws
// a runtime error saying so (the C API maps that to RUNG_ERR_UNAVAILABLE).
std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path);
// The same with the predictor's options (batch, threads, precision, output processing; ml::PredictRequest).
std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path, const ml::PredictorOptions& options);
// True when load_model_predictor can work at all (rung built with LibTorch).
bool have_model_predictor();
inline constexpr const char* no_torch_message =
    "rung was built without LibTorch (RUNG_WITH_TORCH=OFF): spectrum prediction is not available";

// SC(IPA, RPA) of two predicted spectra, RPA as the reference (the paper's SC[IPA_DFT; RPA_DFT]).
double sc_ipa_rpa(const std::vector<double>& energy_eV, const std::vector<double>& ipa,
                  const std::vector<double>& rpa);

}  // namespace rung::select
