#pragma once
// The C++ API of the OPTIMATE model for the selection layer, the C API and `rung predict`: load a
// model file once, predict for many structures (batched forward passes). Torch-free header (pimpl).
#include "core/structure.hpp"
#include "ml/graph.hpp"
#include "ml/model_file.hpp"
#include "ml/spectrum_output.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rung::ml {

// Why prediction, training and evaluation fail (FeatureUnavailable) in a rung built with RUNG_WITH_TORCH=OFF.
inline constexpr const char* no_torch_message =
    "rung was built without LibTorch (RUNG_WITH_TORCH=OFF): spectrum prediction is not available";

// One model file's output for one structure (its one target). What a model set predicts for a structure, all
// targets together, is ml::Prediction (ml/prediction.hpp).
struct ModelOutput {
  std::string id;                 // the structure's id
  Target target = Target::ipa;
  std::vector<double> spectrum;   // trace of Im eps on info().grid (ipa/rpa targets; empty for sc), after
                                  // the options' output processing (non-negative and smooth by default)
  std::vector<double> spread;     // ensemble standard deviation per point (empty unless ensemble > 1)
  std::optional<double> sc;       // SC(IPA, RPA) (sc target)
  std::optional<double> sc_spread;
  // Why the structure lies outside what the model was trained on (training_domain.hpp); empty = inside, or
  // the model file does not say (predict_graphs: no structure to check).
  std::vector<std::string> warnings;
};

struct PredictorOptions {
  std::size_t batch_size = 64;   // graphs per forward pass
  int threads = 1;               // LibTorch/OpenBLAS threads (one per MPI rank), when the runtime manages threads;
                                 // for each load and predict call only (the process's counts are put back)
  bool double_precision = false; // run the network in float64 (verification against the reference)
  OutputProcessing output = default_output_processing();  // OutputProcessing::raw(): the network's output
};

class SpectrumPredictor {
public:
  // Loads and validates a model file (fail_input naming it on any inconsistency).
  static SpectrumPredictor load(const std::filesystem::path& model, PredictorOptions options = {});
  // share/models/<target>.h5
  static SpectrumPredictor load_default(Target target, PredictorOptions options = {});
  SpectrumPredictor(SpectrumPredictor&&) noexcept;
  SpectrumPredictor& operator=(SpectrumPredictor&&) noexcept;
  ~SpectrumPredictor();

  const ModelInfo& info() const;
  const std::filesystem::path& path() const;

  // Validates every structure (Structure::validate, supported elements; errors name its id), builds
  // the graphs and runs the network in eval mode, batch_size graphs per forward.
  std::vector<ModelOutput> predict(const std::vector<Structure>& structures) const;
  std::vector<ModelOutput> predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const;

private:
  struct Impl;
  explicit SpectrumPredictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rung::ml
