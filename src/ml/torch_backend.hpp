#pragma once
// The seam between librung and librung_torch (the LibTorch half of src/ml). librung holds the torch-free
// API (predictor.hpp, trainer.hpp, model_file.hpp) and forwards to librung_torch, which it loads with
// dlopen on first use: commands that never touch the network (`rung spectrum`, `rung info`, ...) do not pay
// LibTorch's ~1 s of loading and static initialisation. Torch-free header, internal to src/ml.
#include "ml/predictor.hpp"
#include "ml/trainer.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace rung::ml::backend {

// A loaded model (ensemble) inside librung_torch.
class Predictor {
public:
  virtual ~Predictor() = default;
  virtual const ModelInfo& info() const = 0;
  virtual const std::filesystem::path& path() const = 0;
  virtual std::vector<ModelOutput> predict(const std::vector<Structure>& structures) const = 0;
  virtual std::vector<ModelOutput> predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const = 0;
};

// Bumped whenever this table or the types it passes change; librung refuses a librung_torch of another value.
inline constexpr int api_version = 2;

struct Api {
  int version = api_version;
  std::unique_ptr<Predictor> (*load_predictor)(const std::filesystem::path& model, const PredictorOptions& options);
  TrainResult (*train_model)(const OptimateDataset& data, const std::string& fingerprint, const TrainOptions& options,
                             const std::filesystem::path& output);
  Evaluation (*evaluate_model)(const std::filesystem::path& model, const OptimateDataset& data,
                               const std::optional<std::filesystem::path>& split_dir, Subset subset,
                               const OutputProcessing& output);
  ConversionResult (*convert_model)(const std::filesystem::path& input, const std::filesystem::path& output,
                                    const ConversionOptions& options);
  nlohmann::json (*conversion_change)(const std::filesystem::path& model, const OptimateDataset& data);
  double (*time_training_step)(const std::vector<const graph::CrystalGraph*>& graphs, const Architecture& arch,
                               int batch, int steps);
};

// librung: loads librung_torch (next to librung, else through the library search path) once, thread-safely;
// fail_unavailable if it cannot.
const Api& api();

}  // namespace rung::ml::backend

// Exported by librung_torch (the one symbol librung looks up).
extern "C" const rung::ml::backend::Api* rung_torch_backend_api();
