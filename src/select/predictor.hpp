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
#include "ml/prediction.hpp"

namespace rung::select {

using ml::ModelSetInfo;
using ml::Prediction;
using ml::sc_ipa_rpa;

class Predictor {
public:
  virtual ~Predictor() = default;
  virtual std::vector<Prediction> predict(const std::vector<Structure>& structures) = 0;
  virtual const ModelSetInfo& info() const = 0;
};

// rung's OPTIMATE ensemble from a model file (empty path: share/models/default). Throws rung::Error
// naming the file when it is missing or malformed; when rung was built without LibTorch it throws
// a runtime error saying so (the C API maps that to RUNG_ERR_UNAVAILABLE).
std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path);
// The same with the predictor's options (batch, threads, precision, output processing; ml::PredictRequest).
std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path, const ml::PredictorOptions& options);
// True when load_model_predictor can work at all (rung built with LibTorch).
bool have_model_predictor();
using ml::no_torch_message;

}  // namespace rung::select
