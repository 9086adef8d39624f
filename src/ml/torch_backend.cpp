// librung's half of the OPTIMATE API: SpectrumPredictor and the training functions forward to
// librung_torch, loaded on first use (torch_backend.hpp).
#include "ml/torch_backend.hpp"

#include "core/error.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

namespace rung::ml {

namespace backend {

namespace {

const char* const library_name = "librung_torch.so";

// The folder librung itself was loaded from (librung_torch sits beside it in the build and install trees).
std::filesystem::path own_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&own_directory), &info) == 0 || !info.dli_fname) return {};
  return std::filesystem::path(info.dli_fname).parent_path();
}

const Api* load() {
  std::string errors;
  void* handle = nullptr;
  const auto beside = own_directory() / library_name;
  for (const std::string& candidate : {beside.string(), std::string(library_name)}) {
    // RTLD_LOCAL: LibTorch's symbols stay out of the global scope of the host program.
    handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
    const char* e = dlerror();
    errors += fmt::format("\n  {}: {}", candidate, e ? e : "not loadable");
  }
  if (!handle) fail("cannot load the OPTIMATE network (LibTorch half of rung, " + std::string(library_name) + "):" + errors);
  using Entry = const Api* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "rung_torch_backend_api"));
  if (!entry) fail(std::string(library_name) + " does not export rung_torch_backend_api");
  const Api* api = entry();
  if (!api || api->version != api_version)
    fail(fmt::format("{} speaks interface version {}, this librung {} (mixed installations?)", library_name,
                     api ? api->version : -1, api_version));
  return api;
}

}  // namespace

const Api& api() {
#ifndef RUNG_HAVE_TORCH
  fail_unavailable(no_torch_message);  // no librung_torch was built
#endif
  static std::once_flag once;
  static const Api* table = nullptr;
  std::call_once(once, [] { table = load(); });
  return *table;
}

}  // namespace backend

struct SpectrumPredictor::Impl {
  std::unique_ptr<backend::Predictor> p;
};

SpectrumPredictor::SpectrumPredictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpectrumPredictor::SpectrumPredictor(SpectrumPredictor&&) noexcept = default;
SpectrumPredictor& SpectrumPredictor::operator=(SpectrumPredictor&&) noexcept = default;
SpectrumPredictor::~SpectrumPredictor() = default;

SpectrumPredictor SpectrumPredictor::load(const std::filesystem::path& model, PredictorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->p = backend::api().load_predictor(model, options);
  return SpectrumPredictor(std::move(impl));
}

SpectrumPredictor SpectrumPredictor::load_default(Target target, PredictorOptions options) {
  return load(default_model_path(target), options);
}

const ModelInfo& SpectrumPredictor::info() const { return impl_->p->info(); }
const std::filesystem::path& SpectrumPredictor::path() const { return impl_->p->path(); }

std::vector<ModelOutput> SpectrumPredictor::predict(const std::vector<Structure>& structures) const {
  return impl_->p->predict(structures);
}

std::vector<ModelOutput> SpectrumPredictor::predict_graphs(const std::vector<graph::CrystalGraph>& graphs) const {
  return impl_->p->predict_graphs(graphs);
}

TrainResult train_model(const OptimateDataset& data, const std::string& fingerprint, const TrainOptions& options,
                        const std::filesystem::path& output) {
  return backend::api().train_model(data, fingerprint, options, output);
}

Evaluation evaluate_model(const std::filesystem::path& model, const OptimateDataset& data,
                          const std::optional<std::filesystem::path>& split_dir, Subset subset,
                          const OutputProcessing& output) {
  return backend::api().evaluate_model(model, data, split_dir, subset, output);
}

ConversionResult convert_model(const std::filesystem::path& input, const std::filesystem::path& output,
                               const ConversionOptions& options) {
  return backend::api().convert_model(input, output, options);
}

nlohmann::json conversion_change(const std::filesystem::path& model, const OptimateDataset& data) {
  return backend::api().conversion_change(model, data);
}

double time_training_step(const std::vector<const graph::CrystalGraph*>& graphs, const Architecture& arch, int batch,
                          int steps) {
  return backend::api().time_training_step(graphs, arch, batch, steps);
}

}  // namespace rung::ml
