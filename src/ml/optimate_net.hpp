#pragma once
#include <cstdint>
// INTERNAL to src/ml (includes LibTorch): the OPTIMATE network as LibTorch modules whose parameter
// names are the PyTorch state-dict names of the PyG reference (doc/ml-model.md), the batching of crystal
// graphs into tensors, and model-file I/O of the weights. Public headers (predictor.hpp,
// trainer.hpp, model_file.hpp) never include this file.
#include "ml/graph.hpp"
#include "ml/architecture.hpp"
#include "io/hdf5_file.hpp"
#include "ml/model_file.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace rung::ml {

// A mini-batch of graphs, PyG DataLoader style: node features concatenated, edge indices offset by
// the cumulative node counts, `batch` = graph index of every node.
struct GraphBatch {
  torch::Tensor x;           // N x 13
  torch::Tensor edge_index;  // 2 x E (int64): row 0 = centre (PyG source), row 1 = neighbour (target)
  torch::Tensor edge_attr;   // E x 51
  // The distinct rows of edge_attr (symmetric crystals repeat distances: typically a fifth of the
  // edges) and each edge's row: the inference kernel multiplies only these by the edge weights.
  torch::Tensor edge_attr_unique;  // U x 51
  torch::Tensor edge_attr_index;   // E (int64) into edge_attr_unique
  torch::Tensor batch;       // N (int64)
  std::int64_t num_graphs = 0;
  GraphBatch to(torch::Dtype dtype) const;
};
GraphBatch make_batch(const std::vector<const graph::CrystalGraph*>& graphs);

// PyG torch_geometric.nn.MLP(channel_list) with its defaults: Linear -> BatchNorm -> ReLU for every
// hidden layer, a plain last Linear.
struct BatchNormWrapImpl : torch::nn::Module {  // PyG's BatchNorm wrapper: parameters under ".module."
  explicit BatchNormWrapImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x) { return module->forward(x); }
  torch::nn::BatchNorm1d module{nullptr};
};
TORCH_MODULE(BatchNormWrap);

// lin(x), with a matrix-vector product for a single row when no gradients are needed.
torch::Tensor linear_forward(torch::nn::Linear& lin, const torch::Tensor& x);

struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const std::vector<int>& channels);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::ModuleList lins, norms;
  std::vector<torch::nn::Linear> lin_ptr;
  std::vector<BatchNormWrap> norm_ptr;
};
TORCH_MODULE(Mlp);

// PyG GATv2Conv(in, C, heads=H, concat=True, edge_dim=51, add_self_loops=False) (doc/ml-model.md, Network).
struct GatV2Impl : torch::nn::Module {
  GatV2Impl(std::int64_t in, std::int64_t channels, std::int64_t heads);
  torch::Tensor forward(const torch::Tensor& x, const GraphBatch& b);
  // The same without autograd support: one fused loop over the edges (used when gradients are off).
  torch::Tensor forward_fused(const torch::Tensor& x, const GraphBatch& b);
  std::int64_t heads, channels;
  torch::nn::Linear lin_l{nullptr}, lin_r{nullptr}, lin_edge{nullptr};
  torch::Tensor att, bias;
};
TORCH_MODULE(GatV2);

struct OptimateNetImpl : torch::nn::Module {
  explicit OptimateNetImpl(const Architecture& arch);
  // B x output_dim: LeakyReLU_{0.01} of the output MLP on the softmax-attention pooled embedding.
  torch::Tensor forward(const GraphBatch& batch);
  // The pooled graph embedding (B x F) before the output MLP.
  torch::Tensor embed(const GraphBatch& batch);
  Architecture arch;
  Mlp mlp_init_node{nullptr}, mlp_att{nullptr}, mlp1{nullptr};
  std::vector<GatV2> gats;
};
TORCH_MODULE(OptimateNet);

// Per-segment softmax over dim 0 (PyG utils.softmax): exp(s - max_seg) / (sum_seg exp(..) + 1e-16).
torch::Tensor segment_softmax(const torch::Tensor& src, const torch::Tensor& index, std::int64_t segments);

// Every parameter and buffer by its state-dict name.
std::vector<std::pair<std::string, torch::Tensor>> named_state(OptimateNetImpl& net);

// Model files (layout in model_file.hpp). Members of an ensemble are stored side by side, with the
// weights in info.weights's storage; `extra` may add datasets before the file is committed.
void save_model_file(const std::filesystem::path& path, const ModelInfo& info, const std::vector<OptimateNet>& members,
                     const std::function<void(h5::File&)>& extra = {});
// Rounds (in place) every tensor that `storage` keeps in half precision, so that a network in memory
// predicts exactly as it will after saving and loading (metrics are computed after this).
void round_to_storage(std::vector<OptimateNet>& members, const std::string& storage);
std::vector<OptimateNet> load_model_file(const std::filesystem::path& path, ModelInfo* info = nullptr);
// Copies weights between two networks of the same architecture (best-checkpoint keeping).
void copy_state(OptimateNetImpl& from, OptimateNetImpl& to);
// into = keep·into + (1 − keep)·from for every floating parameter and buffer (an exponential moving average of the
// weights); integer buffers are copied. The same architecture.
void blend_state(OptimateNetImpl& from, OptimateNetImpl& into, double keep);
// The keep factor of step t (1, 2, ...) that makes an average blended as avg = keep·avg + (1 − keep)·weights the
// bias-corrected exponential average of the steps' weights, Σ_s (1 − k) k^(t−s) w_s / (1 − k^t): 0 at the first
// step (the average is the weights), k/(1 + k) at the second, k in the limit. The starting weights (an --init
// model) never enter it, however few the steps.
double ema_keep(double k, std::uint64_t step);

// Sets LibTorch's intra-op pool and OpenBLAS's pool to `threads` and the inter-op pool to one (the
// MPI-rank rule), but only when the runtime manages threads (core/runtime.hpp: the CLI does, a library
// host does not); `threads` <= 0 keeps the current setting. Called through HostThreadsGuard, which puts the
// pools back afterwards.
void configure_torch_threads(int threads);

// The thread pools of one predictor or trainer call (held by every entry point, for the whole call): sets them
// with configure_torch_threads(threads) and puts back, when the scope ends, what the process had before, so that
// work after it in the same process runs as if no prediction had happened (`rung select --launch native`: the
// native RPA after the predictions gets the process's threads, not the predictor's one):
//  - the calling thread's OpenMP count (omp_get_max_threads, which is also what at::get_num_threads reports),
//    always: LibTorch sets it the first time it runs an operator on a thread (at::init_num_threads:
//    OMP_NUM_THREADS, else the number of cores) and configure_torch_threads sets it under the CLI;
//  - OpenBLAS's own count, where this scope set it (the CLI, threads > 0). That count is the process's: the
//    scopes open on any thread share one saved count, which the last to close puts back (as SerialBlasScope does).
// LibTorch's own record of the count (which it gives to a thread when that runs its first operator) keeps the
// last value configure_torch_threads set: every call under the CLI sets it again.
class HostThreadsGuard {
public:
  explicit HostThreadsGuard(int threads = 0);
  ~HostThreadsGuard();
  HostThreadsGuard(const HostThreadsGuard&) = delete;
  HostThreadsGuard& operator=(const HostThreadsGuard&) = delete;

private:
  int omp_threads_ = -1;    // the calling thread's OpenMP count when the scope began
  bool sets_blas_ = false;  // this scope sets OpenBLAS's pool (and holds the shared saved count)
  // LibTorch 1.13's one note that scatter_reduce is "in beta" (the per-segment maximum of the attention needs
  // exactly that operator) is dropped during the scope, by a handler that passes every other warning on to the one
  // it replaced. LibTorch's warning handler is the calling thread's own, so a host's (a Python interpreter's with
  // PyTorch) is touched on this thread alone and put back when the scope ends.
  std::unique_ptr<c10::WarningHandler> quiet_;
  c10::WarningHandler* replaced_handler_ = nullptr;
  bool handler_set_ = false;
};

// LibTorch's default CPU generator as it was when the scope began, put back when it ends: building a network draws
// its initial weights from it, and a host's seeded random stream must not depend on rung having built one (for
// weights that are then loaded from a file, or for a benchmark's seeded network).
class DefaultGeneratorGuard {
public:
  DefaultGeneratorGuard();
  ~DefaultGeneratorGuard();
  DefaultGeneratorGuard(const DefaultGeneratorGuard&) = delete;
  DefaultGeneratorGuard& operator=(const DefaultGeneratorGuard&) = delete;

private:
  torch::Tensor state_;
};

}  // namespace rung::ml
