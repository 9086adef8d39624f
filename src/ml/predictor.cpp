// Batched inference with a loaded model file (eval mode: BatchNorm uses its running statistics).
#include "ml/predictor.hpp"

#include "core/error.hpp"
#include "ml/optimate_net.hpp"

#include <cmath>

namespace rung::ml {

struct SpectrumPredictor::Impl {
  std::filesystem::path path;
  ModelInfo info;
  PredictorOptions options;
  std::vector<OptimateNet> members;
};

SpectrumPredictor::SpectrumPredictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpectrumPredictor::SpectrumPredictor(SpectrumPredictor&&) noexcept = default;
SpectrumPredictor& SpectrumPredictor::operator=(SpectrumPredictor&&) noexcept = default;
SpectrumPredictor::~SpectrumPredictor() = default;

SpectrumPredictor SpectrumPredictor::load(const std::filesystem::path& model, PredictorOptions options) {
  configure_torch_threads(options.threads);
  auto impl = std::make_unique<Impl>();
  impl->path = model;
  impl->options = options;
  if (impl->options.batch_size == 0) impl->options.batch_size = 1;
  impl->members = load_model_file(model, &impl->info);
  for (auto& m : impl->members) {
    m->eval();
    if (options.double_precision) m->to(torch::kFloat64);
  }
  return SpectrumPredictor(std::move(impl));
}

SpectrumPredictor SpectrumPredictor::load_default(Target target, PredictorOptions options) {
  return load(default_model_path(target), options);
}

const ModelInfo& SpectrumPredictor::info() const { return impl_->info; }
const std::filesystem::path& SpectrumPredictor::path() const { return impl_->path; }

std::vector<Prediction> SpectrumPredictor::predict(const std::vector<Structure>& structures) const {
  std::vector<graph::CrystalGraph> graphs;
  graphs.reserve(structures.size());
  for (const auto& s : structures) {
    const std::string origin = s.id.empty() ? std::string("structure") : s.id;
    graph::validate_for_model(s, origin);
    graphs.push_back(graph::build_crystal_graph(s, origin));
  }
  return predict_graphs(graphs);
}

std::vector<Prediction> SpectrumPredictor::predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const {
  torch::InferenceMode guard;
  const auto& info = impl_->info;
  const std::size_t bs = impl_->options.batch_size;
  const int out_dim = info.arch.output_dim;
  const auto members = impl_->members.size();
  std::vector<Prediction> out(graphs.size());
  for (std::size_t start = 0; start < graphs.size(); start += bs) {
    const std::size_t stop = std::min(graphs.size(), start + bs);
    std::vector<const graph::CrystalGraph*> chunk;
    for (std::size_t i = start; i < stop; ++i) chunk.push_back(&graphs[i]);
    GraphBatch batch = make_batch(chunk);
    if (impl_->options.double_precision) batch = batch.to(torch::kFloat64);
    // Mean and (population) standard deviation over the ensemble, accumulated in double.
    torch::Tensor sum, sum2;
    for (auto& net : impl_->members) {
      const auto y = net->forward(batch).to(torch::kFloat64);
      sum = sum.defined() ? sum + y : y;
      if (members > 1) sum2 = sum2.defined() ? sum2 + y * y : y * y;
    }
    const auto mean = (sum / double(members)).contiguous();
    torch::Tensor sd;
    if (members > 1) sd = (sum2 / double(members) - mean * mean).clamp_min(0).sqrt().contiguous();
    const double* pm = mean.data_ptr<double>();
    const double* ps = sd.defined() ? sd.data_ptr<double>() : nullptr;
    for (std::size_t i = start; i < stop; ++i) {
      Prediction& p = out[i];
      p.id = graphs[i].id;
      p.target = info.target;
      const double* row = pm + (i - start) * out_dim;
      const double* srow = ps ? ps + (i - start) * out_dim : nullptr;
      if (info.target == Target::sc) {
        p.sc = row[0];
        if (srow) p.sc_spread = srow[0];
      } else {
        p.spectrum.assign(row, row + out_dim);
        if (srow) p.spread.assign(srow, srow + out_dim);
      }
    }
  }
  return out;
}

}  // namespace rung::ml
