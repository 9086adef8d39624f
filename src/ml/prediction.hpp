#pragma once
// What rung's OPTIMATE models predict for one material, and which models did: the one Prediction and the
// provenance of a model set (ipa.h5, rpa.h5, sc.h5 of one folder) that every decision, C API call and log
// carries. One model file's own metadata is ml::ModelInfo (ml/model_file.hpp); its raw output for one
// structure is ml::ModelOutput (ml/predictor.hpp). Torch-free.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace rung::ml {

// One material's prediction: Im eps of the trace on the paper's grid, and the similarity.
struct Prediction {
  std::vector<double> energy_eV;
  std::vector<double> ipa, rpa;               // Im eps (trace), same length as energy_eV
  std::vector<double> ipa_spread, rpa_spread;  // ensemble spread per point (may be empty)
  double sc = 0;                               // SC(IPA, RPA), IPA as the reference (doc/selection.md)
  double sc_spread = 0;                        // ensemble spread of that SC
  std::vector<std::string> warnings;           // why the structure lies outside the models' training domain

  nlohmann::json to_json(bool with_spectra) const;
};

// A model set's provenance as it goes into every decision log.
struct ModelSetInfo {
  std::string path, version, kind;  // kind: "optimate" (LibTorch), "synthetic", ...
  bool untrained = false;           // metadata marks random weights (`rung train --epochs 0`)
  int ensemble_size = 1;
  nlohmann::json metadata;          // per target, what its model file says about itself

  nlohmann::json to_json() const;
  // A short hash of what the model files say about their training (not of their paths): a calibration
  // made for one model applies to that model only.
  std::string identity() const;
};

// SC(IPA, RPA) of two predicted spectra with the data set's convention, IPA as the reference:
// 1 - ∫|ipa - rpa| / ∫|ipa| (the label the SC model learns; doc/ml-model.md).
double sc_ipa_rpa(const std::vector<double>& energy_eV, const std::vector<double>& ipa,
                  const std::vector<double>& rpa);

}  // namespace rung::ml
