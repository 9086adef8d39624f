#include "ml/predict_request.hpp"

#include "core/error.hpp"
#include "core/request_json.hpp"

#include <fmt/format.h>

namespace rung::ml {

PredictRequest PredictRequest::from_json(const nlohmann::json& options) {
  return request_json::from_json<PredictRequest>(options, "predict");
}

nlohmann::json PredictRequest::to_json() const { return request_json::to_json(*this); }

std::vector<std::string> PredictRequest::keys() { return request_json::keys<PredictRequest>(); }

std::string PredictRequest::checked_target() const {
  if (target.empty() || target == "ipa" || target == "rpa" || target == "sc") return target;
  fail_usage(fmt::format("target (--target) must be ipa, rpa or sc, not '{}'", target));
}

PredictorOptions PredictRequest::predictor_options() const {
  if (precision != "float32" && precision != "float64")
    fail_usage(fmt::format("precision (--precision) must be float32 or float64, not '{}'", precision));
  if (batch < 1) fail_usage("batch (--batch) must be at least 1");
  if (threads < 1) fail_usage("threads (--threads) must be at least 1");
  checked_target();
  PredictorOptions o;
  o.batch_size = batch;
  o.threads = int(threads);
  o.double_precision = precision == "float64";
  if (raw) o.output = OutputProcessing::raw();
  return o;
}

}  // namespace rung::ml
