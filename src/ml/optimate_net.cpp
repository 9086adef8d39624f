// The OPTIMATE network in LibTorch: exactly the computation of PyG's MLP / GATv2Conv / softmax
// attention pooling as the reference uses them (doc/ml-model.md). This translation unit holds the
// model and its forward pass.
#include "ml/optimate_net.hpp"

#include "core/error.hpp"
#include "core/runtime.hpp"
#include "core/thread_pools.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <mutex>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace rung::ml {

GraphBatch GraphBatch::to(torch::Dtype dtype) const {
  GraphBatch b = *this;
  b.x = x.to(dtype);
  b.edge_attr = edge_attr.to(dtype);
  if (edge_attr_unique.defined()) b.edge_attr_unique = edge_attr_unique.to(dtype);
  return b;
}

GraphBatch make_batch(const std::vector<const graph::CrystalGraph*>& graphs) {
  std::int64_t nodes = 0, edges = 0;
  for (const auto* g : graphs) {
    nodes += g->num_nodes;
    edges += std::int64_t(g->num_edges());
  }
  GraphBatch b;
  b.num_graphs = std::int64_t(graphs.size());
  b.x = torch::empty({nodes, graph::num_node_features}, torch::kFloat32);
  b.edge_index = torch::empty({2, edges}, torch::kInt64);
  b.edge_attr = torch::empty({edges, graph::num_edge_features}, torch::kFloat32);
  b.batch = torch::empty({nodes}, torch::kInt64);
  float* x = b.x.data_ptr<float>();
  float* ea = b.edge_attr.data_ptr<float>();
  std::int64_t* src = b.edge_index.data_ptr<std::int64_t>();
  std::int64_t* dst = src + edges;
  std::int64_t* bt = b.batch.data_ptr<std::int64_t>();
  std::int64_t node0 = 0, edge0 = 0;
  for (std::size_t k = 0; k < graphs.size(); ++k) {
    const auto& g = *graphs[k];
    std::copy(g.node_features.begin(), g.node_features.end(), x + node0 * graph::num_node_features);
    std::copy(g.edge_features.begin(), g.edge_features.end(), ea + edge0 * graph::num_edge_features);
    for (std::size_t e = 0; e < g.num_edges(); ++e) {
      src[edge0 + std::int64_t(e)] = g.edge_src[e] + node0;
      dst[edge0 + std::int64_t(e)] = g.edge_dst[e] + node0;
    }
    std::fill(bt + node0, bt + node0 + g.num_nodes, std::int64_t(k));
    node0 += g.num_nodes;
    edge0 += std::int64_t(g.num_edges());
  }
  // Distinct edge-feature rows (bitwise): identical rows give identical W_e e, so this is exact.
  constexpr std::size_t row_bytes = graph::num_edge_features * sizeof(float);
  std::unordered_map<std::string_view, std::int64_t> seen;
  seen.reserve(std::size_t(edges));
  b.edge_attr_index = torch::empty({edges}, torch::kInt64);
  std::int64_t* uidx = b.edge_attr_index.data_ptr<std::int64_t>();
  std::vector<std::int64_t> first;  // edge holding each distinct row
  for (std::int64_t e = 0; e < edges; ++e) {
    const std::string_view key(reinterpret_cast<const char*>(ea + e * graph::num_edge_features), row_bytes);
    const auto [it, inserted] = seen.emplace(key, std::int64_t(first.size()));
    if (inserted) first.push_back(e);
    uidx[e] = it->second;
  }
  b.edge_attr_unique = torch::empty({std::int64_t(first.size()), graph::num_edge_features}, torch::kFloat32);
  float* eu = b.edge_attr_unique.data_ptr<float>();
  for (std::size_t u = 0; u < first.size(); ++u)
    std::copy(ea + first[u] * graph::num_edge_features, ea + (first[u] + 1) * graph::num_edge_features,
              eu + u * graph::num_edge_features);
  return b;
}

BatchNormWrapImpl::BatchNormWrapImpl(std::int64_t channels) {
  // PyG BatchNorm defaults: eps 1e-5, momentum 0.1, affine, running statistics.
  module = register_module("module", torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(channels).eps(1e-5).momentum(0.1)));
}

MlpImpl::MlpImpl(const std::vector<int>& channels) {
  lins = register_module("lins", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  for (std::size_t k = 0; k + 1 < channels.size(); ++k) {
    lin_ptr.emplace_back(torch::nn::LinearOptions(channels[k], channels[k + 1]).bias(true));
    lins->push_back(lin_ptr.back());
  }
  for (std::size_t k = 0; k + 2 < channels.size(); ++k) {
    norm_ptr.emplace_back(channels[k + 1]);
    norms->push_back(norm_ptr.back());
  }
}

torch::Tensor linear_forward(torch::nn::Linear& lin, const torch::Tensor& x) {
  // One row without gradients (a single structure's graph embedding, a one-atom cell): a matrix-vector
  // product. BLAS GEMM would repack the whole weight matrix for that one row (5x slower on OpenBLAS).
  if (x.size(0) == 1 && !torch::GradMode::is_enabled()) {
    const auto y = lin->bias.defined() ? torch::addmv(lin->bias, lin->weight, x[0]) : torch::mv(lin->weight, x[0]);
    return y.unsqueeze(0);
  }
  return lin->forward(x);
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  for (std::size_t k = 0; k < lin_ptr.size(); ++k) {
    x = linear_forward(lin_ptr[k], x);
    if (k + 1 < lin_ptr.size()) x = torch::relu(norm_ptr[k]->forward(x));  // plain_last: no norm/act at the end
  }
  return x;
}

namespace {
// PyG inits: glorot (Xavier uniform) for GATv2's lin_l/lin_r/lin_edge weights and att.
void glorot_(torch::Tensor w, std::int64_t fan_in, std::int64_t fan_out) {
  const double a = std::sqrt(6.0 / double(fan_in + fan_out));
  torch::NoGradGuard ng;
  w.uniform_(-a, a);
}
}  // namespace

GatV2Impl::GatV2Impl(std::int64_t in, std::int64_t C, std::int64_t H) : heads(H), channels(C) {
  lin_l = register_module("lin_l", torch::nn::Linear(torch::nn::LinearOptions(in, H * C).bias(true)));
  lin_r = register_module("lin_r", torch::nn::Linear(torch::nn::LinearOptions(in, H * C).bias(true)));
  lin_edge = register_module("lin_edge",
                             torch::nn::Linear(torch::nn::LinearOptions(graph::num_edge_features, H * C).bias(false)));
  att = register_parameter("att", torch::empty({1, H, C}));
  bias = register_parameter("bias", torch::zeros({H * C}));
  glorot_(lin_l->weight, in, H * C);
  glorot_(lin_r->weight, in, H * C);
  glorot_(lin_edge->weight, graph::num_edge_features, H * C);
  glorot_(att, H, C);  // PyG: glorot on a 1xHxC tensor uses fan = (H, C)
  {
    torch::NoGradGuard ng;  // PyG Linear bias: U(+-1/sqrt(in))
    const double b = 1.0 / std::sqrt(double(in));
    lin_l->bias.uniform_(-b, b);
    lin_r->bias.uniform_(-b, b);
  }
}

torch::Tensor segment_softmax(const torch::Tensor& src, const torch::Tensor& index, std::int64_t segments) {
  std::vector<std::int64_t> shape = src.sizes().vec();
  shape[0] = segments;
  auto idx = index;
  for (std::int64_t d = 1; d < src.dim(); ++d) idx = idx.unsqueeze(-1);
  idx = idx.expand_as(src);
  // PyG: the maximum is taken on detached values (it only stabilises the exponentials).
  const auto max = torch::zeros(shape, src.options()).scatter_reduce(0, idx, src.detach(), "amax", false);
  const auto out = (src - max.index_select(0, index)).exp();
  const auto sum = torch::zeros(shape, src.options()).index_add_(0, index, out) + 1e-16;
  return out / sum.index_select(0, index);
}

torch::Tensor GatV2Impl::forward(const torch::Tensor& x, const GraphBatch& b) {
  // Without gradients (prediction, validation) the edge-wise part runs in the fused, cache-blocked
  // kernel below; with gradients (training) in ATen ops that autograd differentiates. Both compute the
  // same formulas (the tests compare them).
  if (!torch::GradMode::is_enabled()) return forward_fused(x, b);
  const std::int64_t N = x.size(0);
  const auto& edge_attr = b.edge_attr;
  const auto src = b.edge_index[0], dst = b.edge_index[1];
  const auto xl = lin_l->forward(x).view({N, heads, channels});  // source ("j") transform, also the message
  const auto xr = lin_r->forward(x).view({N, heads, channels});  // target ("i") transform
  const auto xj = xl.index_select(0, src);
  auto m = xr.index_select(0, dst) + xj + lin_edge->forward(edge_attr).view({-1, heads, channels});
  m = torch::leaky_relu(m, 0.2);
  const auto score = (m * att).sum(-1);                   // E x H
  const auto alpha = segment_softmax(score, dst, N);      // softmax over the edges into each target
  auto out = torch::zeros({N, heads, channels}, x.options()).index_add_(0, dst, xj * alpha.unsqueeze(-1));
  return out.view({N, heads * channels}) + bias;
}

namespace {

// The edge-wise GATv2 work in one pass: m = LeakyReLU_0.2(xr[t] + xl[s] + (W_e e)[u(e)]) and
// score[e,h] = sum_c att[h,c] m[e,h,c]; m is never stored.
template <class T>
[[gnu::always_inline]] inline void edge_scores_impl(std::int64_t n, std::int64_t H, std::int64_t C,
                                                    const std::int64_t* src, const std::int64_t* dst,
                                                    const std::int64_t* uidx, const T* xl, const T* xr, const T* we,
                                                    const T* att, T* score) {
  const std::int64_t HC = H * C;
  for (std::int64_t e = 0; e < n; ++e) {
    const T* a = xr + dst[e] * HC;
    const T* b = xl + src[e] * HC;
    const T* w = we + uidx[e] * HC;
    for (std::int64_t h = 0; h < H; ++h) {
      T acc = 0;
      const std::int64_t o = h * C;
#pragma omp simd reduction(+ : acc)
      for (std::int64_t c = 0; c < C; ++c) {
        const T v = (a[o + c] + b[o + c]) + w[o + c];
        acc += (v > T(0) ? v : T(0.2) * v) * att[o + c];
      }
      score[e * H + h] = acc;
    }
  }
}

// out[t] += alpha[e,h] * xl[s] over all edges (sum aggregation of the messages).
template <class T>
[[gnu::always_inline]] inline void aggregate_impl(std::int64_t E, std::int64_t H, std::int64_t C, const std::int64_t* src,
                                                  const std::int64_t* dst, const T* alpha, const T* xl, T* out) {
  const std::int64_t HC = H * C;
  for (std::int64_t e = 0; e < E; ++e)
    for (std::int64_t h = 0; h < H; ++h) {
      const T w = alpha[e * H + h];
      const T* b = xl + src[e] * HC + h * C;
      T* o = out + dst[e] * HC + h * C;
#pragma omp simd
      for (std::int64_t c = 0; c < C; ++c) o[c] += w * b[c];
    }
}

// Vectorised for the machine it runs on (AVX2/FMA where present), portable otherwise.
#define RUNG_GAT_KERNELS(T)                                                                                         \
  [[gnu::target_clones("arch=haswell", "default")]] void edge_scores(std::int64_t n, std::int64_t H, std::int64_t C, \
                                                                     const std::int64_t* src, const std::int64_t* dst, \
                                                                     const std::int64_t* uidx, const T* xl,          \
                                                                     const T* xr, const T* we, const T* att,         \
                                                                     T* score) {                                     \
    edge_scores_impl<T>(n, H, C, src, dst, uidx, xl, xr, we, att, score);                                            \
  }                                                                                                                  \
  [[gnu::target_clones("arch=haswell", "default")]] void aggregate(std::int64_t E, std::int64_t H, std::int64_t C,   \
                                                                   const std::int64_t* src, const std::int64_t* dst, \
                                                                   const T* alpha, const T* xl, T* out) {            \
    aggregate_impl<T>(E, H, C, src, dst, alpha, xl, out);                                                            \
  }
RUNG_GAT_KERNELS(float)
RUNG_GAT_KERNELS(double)
#undef RUNG_GAT_KERNELS

// PyG's softmax over the edges into each target, per head, in place (score -> alpha).
template <class T>
void edge_softmax(std::int64_t E, std::int64_t H, std::int64_t N, const std::int64_t* dst, T* s) {
  std::vector<T> mx(std::size_t(N * H), -std::numeric_limits<T>::infinity()), sum(std::size_t(N * H), T(0));
  for (std::int64_t e = 0; e < E; ++e)
    for (std::int64_t h = 0; h < H; ++h) mx[dst[e] * H + h] = std::max(mx[dst[e] * H + h], s[e * H + h]);
  for (std::int64_t e = 0; e < E; ++e)
    for (std::int64_t h = 0; h < H; ++h) {
      s[e * H + h] = std::exp(s[e * H + h] - mx[dst[e] * H + h]);
      sum[dst[e] * H + h] += s[e * H + h];
    }
  for (std::int64_t e = 0; e < E; ++e)
    for (std::int64_t h = 0; h < H; ++h) s[e * H + h] /= sum[dst[e] * H + h] + T(1e-16);
}

}  // namespace

torch::Tensor GatV2Impl::forward_fused(const torch::Tensor& x, const GraphBatch& b) {
  const std::int64_t N = x.size(0), E = b.edge_attr.size(0), HC = heads * channels;
  const auto xl = linear_forward(lin_l, x).contiguous();
  const auto xr = linear_forward(lin_r, x).contiguous();
  const auto ei = b.edge_index.contiguous();
  // W_e e for the distinct edge-feature rows only (all rows when the batch has no table).
  const bool have_unique = b.edge_attr_unique.defined() && b.edge_attr_index.defined();
  const auto we = torch::mm(have_unique ? b.edge_attr_unique : b.edge_attr, lin_edge->weight.t()).contiguous();
  const auto uidx = have_unique ? b.edge_attr_index.contiguous() : torch::arange(E, torch::kInt64);
  const auto a = att.contiguous();
  const std::int64_t* src = ei.data_ptr<std::int64_t>();
  const std::int64_t* dst = src + E;
  auto score = torch::empty({E, heads}, x.options());
  auto out = torch::zeros({N, HC}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gatv2_fused", [&] {
    const scalar_t* pl = xl.data_ptr<scalar_t>();
    scalar_t* ps = score.data_ptr<scalar_t>();
    edge_scores(E, heads, channels, src, dst, uidx.data_ptr<std::int64_t>(), pl, xr.data_ptr<scalar_t>(),
                we.data_ptr<scalar_t>(), a.data_ptr<scalar_t>(), ps);
    edge_softmax<scalar_t>(E, heads, N, dst, ps);
    aggregate(E, heads, channels, src, dst, ps, pl, out.data_ptr<scalar_t>());
  });
  return out.add_(bias);
}

OptimateNetImpl::OptimateNetImpl(const Architecture& a) : arch(a) {
  arch.validate("architecture");
  std::vector<int> node = {graph::num_node_features};
  node.insert(node.end(), arch.node_mlp.begin(), arch.node_mlp.end());
  mlp_init_node = register_module("mlp_init_node", Mlp(node));
  std::int64_t in = arch.node_embedding_dim();
  for (std::size_t l = 0; l < arch.gat.size(); ++l) {
    gats.push_back(register_module(fmt::format("gat{}", l + 1), GatV2(in, arch.gat[l].channels, arch.gat[l].heads)));
    in = std::int64_t(arch.gat[l].channels) * arch.gat[l].heads;
  }
  mlp_att = register_module("mlp_att", Mlp(std::vector<int>{int(in), int(in)}));
  std::vector<int> head = {int(in)};
  head.insert(head.end(), arch.out_mlp.begin(), arch.out_mlp.end());
  head.push_back(arch.output_dim);
  mlp1 = register_module("mlp1", Mlp(head));
}

torch::Tensor OptimateNetImpl::embed(const GraphBatch& b) {
  auto h = mlp_init_node->forward(b.x);
  for (auto& gat : gats) h = gat->forward(h, b);  // no activation in between
  const auto a = mlp_att->forward(h);
  const auto alpha = segment_softmax(a, b.batch, b.num_graphs);  // per graph, per feature
  return torch::zeros({b.num_graphs, h.size(1)}, h.options()).index_add_(0, b.batch, alpha * h);
}

torch::Tensor OptimateNetImpl::forward(const GraphBatch& b) {
  return torch::leaky_relu(mlp1->forward(embed(b)), 0.01);
}

std::vector<std::pair<std::string, torch::Tensor>> named_state(OptimateNetImpl& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& p : net.named_buffers(true)) out.emplace_back(p.key(), p.value());
  return out;
}

void copy_state(OptimateNetImpl& from, OptimateNetImpl& to) {
  torch::NoGradGuard ng;
  auto a = named_state(from), b = named_state(to);
  if (a.size() != b.size()) fail("copy_state: different architectures");
  for (std::size_t i = 0; i < a.size(); ++i) b[i].second.copy_(a[i].second);
}

void blend_state(OptimateNetImpl& from, OptimateNetImpl& into, double keep) {
  torch::NoGradGuard ng;
  auto a = named_state(from), b = named_state(into);
  if (a.size() != b.size()) fail("blend_state: different architectures");
  for (std::size_t i = 0; i < a.size(); ++i) {
    // (a tensor that has not moved, e.g. a frozen part's, stays bit for bit: k·x + (1 − k)·x need not be x)
    if (!b[i].second.is_floating_point() || keep == 0 || torch::equal(a[i].second, b[i].second))
      b[i].second.copy_(a[i].second);  // (and BatchNorm's batch counter)
    else b[i].second.mul_(keep).add_(a[i].second, 1.0 - keep);
  }
}

double ema_keep(double k, std::uint64_t step) {
  if (step <= 1) return 0.0;
  const double kt = std::pow(k, double(step)), kt1 = kt / k;
  return k * (1.0 - kt1) / (1.0 - kt);
}

namespace {
// LibTorch 1.13 warns once that scatter_reduce is "in beta"; the per-segment maximum needs exactly it
// (PyG uses the same reduction), so that one message is dropped and every other warning passes (HostThreadsGuard).
struct QuietBetaWarning : c10::WarningHandler {
  c10::WarningHandler* previous = nullptr;
  void process(const c10::SourceLocation& where, const std::string& msg, const bool verbatim) override {
    if (msg.find("scatter_reduce() is in beta") != std::string::npos) return;
    previous->process(where, msg, verbatim);
  }
};
}  // namespace

namespace {
// The scopes that set OpenBLAS's pool, open on any thread: the first saves the process's count, the last puts it
// back, so that two predictions on two threads cannot restore it under each other.
std::mutex torch_blas_mutex;
int torch_blas_scopes = 0;
int torch_blas_saved = 0;  // 0: nothing to put back (no OpenBLAS)
}  // namespace

// OpenMP's pool as the process has it (LibTorch's libgomp), through core/thread_pools.hpp: this library is built
// without an OpenMP runtime of its own.
HostThreadsGuard::HostThreadsGuard(int threads)
    : omp_threads_(openmp_max_threads()), quiet_(std::make_unique<QuietBetaWarning>()) {  // (first: may throw)
  if (runtime().manage_threads && threads > 0) {
    const std::lock_guard<std::mutex> lock(torch_blas_mutex);
    if (torch_blas_scopes++ == 0) torch_blas_saved = openblas_threads();
    sets_blas_ = true;
  }
  configure_torch_threads(threads);
  // (last: a constructor that throws leaves no handler set)
  static_cast<QuietBetaWarning&>(*quiet_).previous = replaced_handler_ = c10::Warning::get_warning_handler();
  c10::Warning::set_warning_handler(quiet_.get());
  handler_set_ = true;
}

DefaultGeneratorGuard::DefaultGeneratorGuard() {
  at::Generator g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  state_ = g.get_state();
}

DefaultGeneratorGuard::~DefaultGeneratorGuard() {
  at::Generator g = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state_);
}

HostThreadsGuard::~HostThreadsGuard() {
  if (handler_set_) c10::Warning::set_warning_handler(replaced_handler_);
  if (omp_threads_ > 0 && openmp_max_threads() != omp_threads_) set_openmp_threads(omp_threads_);
  if (!sets_blas_) return;
  const std::lock_guard<std::mutex> lock(torch_blas_mutex);
  if (--torch_blas_scopes == 0 && torch_blas_saved > 0 && openblas_threads() != torch_blas_saved)
    set_openblas_threads(torch_blas_saved);
}

void configure_torch_threads(int threads) {
  // The pools belong to the process: a host program (pw.x with OpenMP, a Python interpreter) keeps its own.
  if (!runtime().manage_threads) return;
  if (threads <= 0) return;
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
  // Debian's libblas.so.3 may be the pthread build of OpenBLAS, whose own thread pool ignores
  // at::set_num_threads (OpenMP): on a rank pinned to one core its spinning threads cost 3-10x.
  set_openblas_threads(threads);
  static bool interop_set = false;  // may be set only once per process, before any inter-op work
  if (!interop_set) {
    interop_set = true;
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // already started (e.g. a host application used LibTorch first): keep its setting
    }
  }
}

}  // namespace rung::ml
