// Batched inference with a loaded model file (eval mode: BatchNorm uses its running statistics).
// Part of librung_torch; librung's SpectrumPredictor forwards here (torch_backend.hpp).
#include "ml/predictor.hpp"

#include "core/error.hpp"
#include "ml/optimate_net.hpp"
#include "ml/torch_backend.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung::ml::torch_impl {

namespace {

class TorchPredictor final : public backend::Predictor {
public:
  std::filesystem::path path_;
  ModelInfo info_;
  PredictorOptions options;
  mutable std::vector<OptimateNet> members;  // forward() is non-const in LibTorch

  const ModelInfo& info() const override { return info_; }
  const std::filesystem::path& path() const override { return path_; }
  std::vector<ModelOutput> predict(const std::vector<Structure>& structures) const override;
  std::vector<ModelOutput> predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const override;
};

}  // namespace

std::unique_ptr<backend::Predictor> load_predictor(const std::filesystem::path& model, const PredictorOptions& options) {
  const HostThreadsGuard host_threads(options.threads);
  auto impl = std::make_unique<TorchPredictor>();
  impl->path_ = model;
  impl->options = options;
  if (impl->options.batch_size == 0) impl->options.batch_size = 1;
  impl->members = load_model_file(model, &impl->info_);
  for (auto& m : impl->members) {
    m->eval();
    if (options.double_precision) m->to(torch::kFloat64);
  }
  return impl;
}

std::vector<ModelOutput> TorchPredictor::predict(const std::vector<Structure>& structures) const {
  std::vector<graph::CrystalGraph> graphs;
  graphs.reserve(structures.size());
  for (const auto& s : structures) {
    const std::string origin = s.id.empty() ? std::string("structure") : s.id;
    graph::validate_for_model(s, origin);
    graphs.push_back(graph::build_crystal_graph(s, origin));
  }
  auto out = predict_graphs(graphs);
  if (info_.domain)
    for (std::size_t i = 0; i < out.size(); ++i) out[i].warnings = domain_warnings(*info_.domain, structures[i]);
  return out;
}

std::vector<ModelOutput> TorchPredictor::predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const {
  const HostThreadsGuard host_threads(options.threads);  // the pools for this call, put back when it returns
  torch::InferenceMode guard;
  const auto& info = info_;
  const std::size_t bs = options.batch_size;
  const int out_dim = info.arch.output_dim;
  const auto n_members = members.size();
  const auto omega = info.grid.values_eV();
  const bool process = info.target != Target::sc && !options.output.is_raw();
  std::vector<ModelOutput> out(graphs.size());
  for (std::size_t start = 0; start < graphs.size(); start += bs) {
    const std::size_t stop = std::min(graphs.size(), start + bs);
    std::vector<const graph::CrystalGraph*> chunk;
    for (std::size_t i = start; i < stop; ++i) chunk.push_back(&graphs[i]);
    GraphBatch batch = make_batch(chunk);
    if (options.double_precision) batch = batch.to(torch::kFloat64);
    // Mean and (population) standard deviation over the ensemble, accumulated in double.
    torch::Tensor sum, sum2;
    for (auto& net : members) {
      const auto y = net->forward(batch).to(torch::kFloat64);
      sum = sum.defined() ? sum + y : y;
      if (n_members > 1) sum2 = sum2.defined() ? sum2 + y * y : y * y;
    }
    const auto mean = (sum / double(n_members)).contiguous();
    torch::Tensor sd;
    if (n_members > 1) sd = (sum2 / double(n_members) - mean * mean).clamp_min(0).sqrt().contiguous();
    const double* pm = mean.data_ptr<double>();
    const double* ps = sd.defined() ? sd.data_ptr<double>() : nullptr;
    for (std::size_t i = start; i < stop; ++i) {
      ModelOutput& p = out[i];
      p.id = graphs[i].id;
      p.target = info.target;
      const double* row = pm + (i - start) * out_dim;
      const double* srow = ps ? ps + (i - start) * out_dim : nullptr;
      // NaN would pass the clipping at zero and the smoothing would spread it: a network that overflows is refused
      for (int k = 0; k < out_dim; ++k)
        if (!std::isfinite(row[k]))
          fail(fmt::format("the model {} predicts a non-finite value (output {} of {}) for {}", path_.string(), k + 1,
                           out_dim, graphs[i].id.empty() ? fmt::format("structure {}", i + 1) : graphs[i].id));
      if (info.target == Target::sc) {
        // SC = 1 - ∫|ipa - rpa| / ∫|ipa| cannot exceed 1; the regression head can (up to 1.21 on a shipped model's
        // training set): every prediction (rung predict, select, the C API) reports the possible value
        p.sc = std::min(1.0, row[0]);
        if (srow) p.sc_spread = srow[0];
      } else {
        p.spectrum.assign(row, row + out_dim);
        if (srow) p.spread.assign(srow, srow + out_dim);
        if (process) {
          p.spectrum = process_spectrum(omega, std::move(p.spectrum), options.output);
          // the spread is smoothed alike (it is a width, not a spectrum: no clipping needed)
          if (srow) p.spread = process_spectrum(omega, std::move(p.spread), {false, options.output.smoothing_fwhm_eV});
        }
      }
    }
  }
  return out;
}

}  // namespace rung::ml::torch_impl

// The table librung's forwarding layer calls (torch_backend.hpp).
namespace rung::ml::torch_impl {
TrainResult train_model(const OptimateDataset&, const std::string&, const TrainOptions&, const std::filesystem::path&);
Evaluation evaluate_model(const std::filesystem::path&, const OptimateDataset&, const std::optional<std::filesystem::path>&,
                          Subset, const OutputProcessing&);
ConversionResult convert_model(const std::filesystem::path&, const std::filesystem::path&, const ConversionOptions&);
nlohmann::json conversion_change(const std::filesystem::path&, const OptimateDataset&);
double time_training_step(const std::vector<const graph::CrystalGraph*>&, const Architecture&, int, int);
}  // namespace rung::ml::torch_impl

extern "C" __attribute__((visibility("default"))) const rung::ml::backend::Api* rung_torch_backend_api() {
  namespace t = rung::ml::torch_impl;
  static const rung::ml::backend::Api api{rung::ml::backend::api_version, &t::load_predictor, &t::train_model,
                                          &t::evaluate_model, &t::convert_model,
                                          &t::conversion_change, &t::time_training_step};
  return &api;
}
