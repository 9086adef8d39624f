// The OPTIMATE network: its forward pass against an independent scalar implementation of doc/ml-model.md's
// formulas (Network section), invariances (atom order, supercells), model-file round trip and validation.
#include "core/error.hpp"
#include "core/thread_pools.hpp"
#include "support/supercell.hpp"
#include "core/units.hpp"
#include "io/hdf5_file.hpp"
#include "ml/graph.hpp"
#include "io/structures/reader.hpp"
#include "ml/optimate_net.hpp"
#include "ml/predictor.hpp"
#include "ml/trainer.hpp"
#include "support/paths.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <map>

using namespace rung;
using namespace rung::ml;
namespace fs = std::filesystem;

namespace {

Structure rocksalt(double a_ang = 5.6) {
  Structure s;
  s.id = "NaCl";
  s.lattice = Eigen::Matrix3d::Identity() * units::Ang_to_Bohr(a_ang);
  s.frac = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}, {0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.5}, {0.5, 0.5, 0.5}};
  s.numbers = {11, 11, 11, 11, 17, 17, 17, 17};
  return s;
}

Structure wurtzite_like() {
  Structure s;
  s.id = "GaN";
  const double a = units::Ang_to_Bohr(3.19), c = units::Ang_to_Bohr(5.19);
  s.lattice << a, 0, 0, -a / 2, a * std::sqrt(3.0) / 2, 0, 0, 0, c;
  s.frac = {{1.0 / 3, 2.0 / 3, 0}, {2.0 / 3, 1.0 / 3, 0.5}, {1.0 / 3, 2.0 / 3, 0.377}, {2.0 / 3, 1.0 / 3, 0.877}};
  s.numbers = {31, 31, 7, 7};
  return s;
}

using rung::test::supercell;

std::vector<double> values(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// --- an independent scalar implementation of the forward pass (doc/ml-model.md), in double ---------------
struct Weights {
  std::map<std::string, std::vector<double>> w;
  const std::vector<double>& operator()(const std::string& n) const { return w.at(n); }
};
using Mat = std::vector<std::vector<double>>;  // rows = nodes/graphs

Mat linear(const Mat& x, const std::vector<double>& W, const std::vector<double>* b, std::size_t out) {
  Mat y(x.size(), std::vector<double>(out, 0.0));
  const std::size_t in = x.empty() ? 0 : x[0].size();
  for (std::size_t n = 0; n < x.size(); ++n)
    for (std::size_t o = 0; o < out; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (std::size_t i = 0; i < in; ++i) s += W[o * in + i] * x[n][i];
      y[n][o] = s;
    }
  return y;
}

Mat mlp(const Weights& w, const std::string& p, Mat x, const std::vector<int>& widths) {
  for (std::size_t k = 0; k < widths.size(); ++k) {
    const std::string l = p + ".lins." + std::to_string(k) + ".";
    x = linear(x, w(l + "weight"), &w(l + "bias"), std::size_t(widths[k]));
    if (k + 1 < widths.size()) {
      const std::string q = p + ".norms." + std::to_string(k) + ".module.";
      for (auto& row : x)
        for (std::size_t c = 0; c < row.size(); ++c) {
          const double v = (row[c] - w(q + "running_mean")[c]) / std::sqrt(w(q + "running_var")[c] + 1e-5) *
                               w(q + "weight")[c] + w(q + "bias")[c];
          row[c] = std::max(v, 0.0);
        }
    }
  }
  return x;
}

double lrelu(double x, double s) { return x > 0 ? x : s * x; }

Mat scalar_forward(const Weights& w, const Architecture& arch, const std::vector<const graph::CrystalGraph*>& graphs) {
  Mat x;
  std::vector<int> batch;
  std::vector<std::array<std::int64_t, 2>> edges;
  Mat ea;
  std::int64_t off = 0;
  for (std::size_t b = 0; b < graphs.size(); ++b) {
    const auto& g = *graphs[b];
    for (std::int64_t n = 0; n < g.num_nodes; ++n) {
      x.emplace_back(g.node_features.begin() + n * 13, g.node_features.begin() + (n + 1) * 13);
      batch.push_back(int(b));
    }
    for (std::size_t e = 0; e < g.num_edges(); ++e) {
      edges.push_back({g.edge_src[e] + off, g.edge_dst[e] + off});
      ea.emplace_back(g.edge_features.begin() + e * 51, g.edge_features.begin() + (e + 1) * 51);
    }
    off += g.num_nodes;
  }
  Mat h = mlp(w, "mlp_init_node", x, arch.node_mlp);
  for (std::size_t l = 0; l < arch.gat.size(); ++l) {
    const std::string p = "gat" + std::to_string(l + 1) + ".";
    const std::size_t H = arch.gat[l].heads, C = arch.gat[l].channels;
    const Mat xl = linear(h, w(p + "lin_l.weight"), &w(p + "lin_l.bias"), H * C);
    const Mat xr = linear(h, w(p + "lin_r.weight"), &w(p + "lin_r.bias"), H * C);
    const Mat xe = linear(ea, w(p + "lin_edge.weight"), nullptr, H * C);
    std::vector<std::vector<double>> score(edges.size(), std::vector<double>(H, 0.0));
    for (std::size_t e = 0; e < edges.size(); ++e)
      for (std::size_t hh = 0; hh < H; ++hh)
        for (std::size_t c = 0; c < C; ++c) {
          const std::size_t k = hh * C + c;
          score[e][hh] += w(p + "att")[k] * lrelu(xl[edges[e][0]][k] + xr[edges[e][1]][k] + xe[e][k], 0.2);
        }
    Mat out(h.size(), std::vector<double>(H * C, 0.0));
    for (std::size_t t = 0; t < h.size(); ++t)
      for (std::size_t hh = 0; hh < H; ++hh) {
        double mx = -1e300, sum = 0;
        for (std::size_t e = 0; e < edges.size(); ++e)
          if (std::size_t(edges[e][1]) == t) mx = std::max(mx, score[e][hh]);
        for (std::size_t e = 0; e < edges.size(); ++e)
          if (std::size_t(edges[e][1]) == t) sum += std::exp(score[e][hh] - mx);
        for (std::size_t e = 0; e < edges.size(); ++e)
          if (std::size_t(edges[e][1]) == t) {
            const double a = std::exp(score[e][hh] - mx) / (sum + 1e-16);
            for (std::size_t c = 0; c < C; ++c) out[t][hh * C + c] += a * xl[edges[e][0]][hh * C + c];
          }
      }
    for (auto& row : out)
      for (std::size_t k = 0; k < row.size(); ++k) row[k] += w(p + "bias")[k];
    h = out;
  }
  const std::size_t F = h[0].size();
  const Mat a = linear(h, w("mlp_att.lins.0.weight"), &w("mlp_att.lins.0.bias"), F);
  Mat g(graphs.size(), std::vector<double>(F, 0.0));
  for (std::size_t b = 0; b < graphs.size(); ++b)
    for (std::size_t f = 0; f < F; ++f) {
      double mx = -1e300, sum = 0;
      for (std::size_t n = 0; n < h.size(); ++n)
        if (batch[n] == int(b)) mx = std::max(mx, a[n][f]);
      for (std::size_t n = 0; n < h.size(); ++n)
        if (batch[n] == int(b)) sum += std::exp(a[n][f] - mx);
      for (std::size_t n = 0; n < h.size(); ++n)
        if (batch[n] == int(b)) g[b][f] += std::exp(a[n][f] - mx) / (sum + 1e-16) * h[n][f];
    }
  std::vector<int> head = arch.out_mlp;
  head.push_back(arch.output_dim);
  Mat y = mlp(w, "mlp1", g, head);
  for (auto& row : y)
    for (auto& v : row) v = lrelu(v, 0.01);
  return y;
}

fs::path tmp(const std::string& name) {
  const auto d = fs::temp_directory_path() / "rung_test_ml";
  fs::create_directories(d);
  return d / name;
}

fs::path random_model(const std::string& name, const std::string& arch, Target target = Target::ipa, int ensemble = 1) {
  TrainOptions t;
  t.epochs = 0;
  t.arch = arch;
  t.target = target;
  t.ensemble = ensemble;
  t.progress = false;
  const auto p = tmp(name);
  train_model(OptimateDataset{}, "none", t, p);
  return p;
}

}  // namespace

TEST_CASE("model: blend_state moves an average toward the weights by 1 - keep, and copies integer buffers",
          "[unit][ml][model]") {
  const auto arch = Architecture::parse(R"({"node_mlp":[6,5],"gat":[[3,2]],"out_mlp":[4]})", 9);
  OptimateNet weights(arch), average(arch);
  {
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*weights)) t.fill_(t.is_floating_point() ? 1.0 : 7.0);
    for (auto& [name, t] : named_state(*average)) t.fill_(t.is_floating_point() ? 3.0 : 2.0);
  }
  blend_state(*weights, *average, 0.75);
  std::size_t floating = 0, integer = 0;
  for (auto& [name, t] : named_state(*average)) {
    if (t.is_floating_point()) {
      ++floating;
      CHECK(t.eq(2.5).all().item<bool>());  // 0.75 * 3 + 0.25 * 1, every parameter and BatchNorm statistic
    } else {
      ++integer;
      CHECK(t.eq(7).all().item<bool>());  // BatchNorm's batch counter: the weights' own
    }
  }
  CHECK(floating > 10);
  CHECK(integer > 0);

  // A tensor that has not moved (a frozen part's) stays bit for bit, where 0.99 x + 0.01 x need not give x.
  {
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*weights))
      if (t.is_floating_point()) t.fill_(0.3);
    copy_state(*weights, *average);
  }
  blend_state(*weights, *average, 0.99);
  for (auto& [name, t] : named_state(*average))
    if (t.is_floating_point()) CHECK(t.eq(0.3f).all().item<bool>());

  // The bias-corrected weighting: the first step's average is the weights, the second weighs them 1/(1 + k) and
  // 1 - 1/(1 + k) (k/(1 + k) kept), and the keep factor tends to k.
  CHECK(ema_keep(0.99, 1) == 0.0);
  CHECK(ema_keep(0.99, 2) == Approx(0.99 / 1.99).epsilon(1e-12));
  CHECK(ema_keep(0.99, 3) == Approx(0.99 * (1 - 0.99 * 0.99) / (1 - 0.99 * 0.99 * 0.99)).epsilon(1e-12));
  CHECK(ema_keep(0.99, 5000) == Approx(0.99).epsilon(1e-12));
}

TEST_CASE("model: LibTorch forward equals a scalar implementation of the spec (double)", "[unit][ml][model]") {
  const auto arch = Architecture::parse(R"({"node_mlp":[6,5],"gat":[[3,2],[2,3]],"out_mlp":[7,4]})", 9);
  torch::manual_seed(7);
  OptimateNet net(arch);
  net->to(torch::kFloat64);
  {
    // Non-trivial BatchNorm statistics and biases, so that every term matters.
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*net)) {
      if (name.find("running_var") != std::string::npos) t.uniform_(0.5, 2.0);
      else if (name.find("running_mean") != std::string::npos || name.find("bias") != std::string::npos ||
               name.find("norms") != std::string::npos)
        if (t.is_floating_point()) t.uniform_(-0.5, 0.5);
    }
  }
  net->eval();
  const auto g1 = graph::build_crystal_graph(rocksalt(), "NaCl");
  const auto g2 = graph::build_crystal_graph(wurtzite_like(), "GaN");
  REQUIRE(g1.num_edges() > 0);
  const std::vector<const graph::CrystalGraph*> graphs = {&g1, &g2};
  const auto y = net->forward(make_batch(graphs).to(torch::kFloat64));
  REQUIRE(y.size(0) == 2);
  REQUIRE(y.size(1) == 9);
  Weights w;
  for (auto& [name, t] : named_state(*net)) w.w[name] = values(t);
  const Mat ref = scalar_forward(w, arch, graphs);
  const auto got = values(y);
  double worst = 0;
  for (int b = 0; b < 2; ++b)
    for (int k = 0; k < 9; ++k) worst = std::max(worst, std::abs(got[b * 9 + k] - ref[b][k]));
  CHECK(worst < 1e-12);
  // Without gradients the GATv2 layers take the fused kernel: the same numbers.
  {
    torch::NoGradGuard ng;
    const auto fused = values(net->forward(make_batch(graphs).to(torch::kFloat64)));
    double d = 0;
    for (int b = 0; b < 2; ++b)
      for (int k = 0; k < 9; ++k) d = std::max(d, std::abs(fused[b * 9 + k] - ref[b][k]));
    CHECK(d < 1e-12);
  }
  // The output is not trivially constant across graphs.
  CHECK(std::abs(ref[0][0] - ref[1][0]) + std::abs(ref[0][3] - ref[1][3]) > 1e-6);
}

TEST_CASE("model: predictions do not depend on atom order or the choice of (super)cell", "[unit][ml][model]") {
  const auto model = random_model("invariance.h5", "ipa");
  auto p = SpectrumPredictor::load(model);
  Structure a = wurtzite_like();
  Structure perm = a;
  std::reverse(perm.frac.begin(), perm.frac.end());
  std::reverse(perm.numbers.begin(), perm.numbers.end());
  Structure big = supercell(a, 2, 2, 1);
  Structure shifted = a;  // wrapped / shifted fractional coordinates: the same crystal
  for (auto& f : shifted.frac) f += Eigen::Vector3d(1.0, -2.0, 3.0);
  const auto r = p.predict({a, perm, big, shifted});
  REQUIRE(r.size() == 4);
  REQUIRE(r[0].spectrum.size() == 2001);
  double scale = 0, d_perm = 0, d_big = 0, d_shift = 0;
  for (std::size_t k = 0; k < 2001; ++k) {
    scale = std::max(scale, std::abs(r[0].spectrum[k]));
    d_perm = std::max(d_perm, std::abs(r[1].spectrum[k] - r[0].spectrum[k]));
    d_big = std::max(d_big, std::abs(r[2].spectrum[k] - r[0].spectrum[k]));
    d_shift = std::max(d_shift, std::abs(r[3].spectrum[k] - r[0].spectrum[k]));
  }
  REQUIRE(scale > 1e-3);
  // float32 rounding of differently ordered sums only.
  CHECK(d_perm <= 1e-5 * scale);
  CHECK(d_big <= 1e-5 * scale);
  CHECK(d_shift <= 1e-5 * scale);
  // Batching does not change a structure's result (eval-mode BatchNorm is per-sample).
  const auto alone = p.predict({big});
  double d_alone = 0;
  for (std::size_t k = 0; k < 2001; ++k) d_alone = std::max(d_alone, std::abs(alone[0].spectrum[k] - r[2].spectrum[k]));
  CHECK(d_alone <= 1e-5 * scale);
  // Negative controls: the invariances above would also hold for a graph without edges (the atoms' own features
  // alone, identical in every cell choice) or a network that ignored its input. A 10 % larger lattice changes
  // every distance (the edges' Gaussian features and the neighbours within 5 Angstrom); Al in place of Ga changes
  // the node features. Each must move the prediction by clearly more than the float rounding allowed above (1e-5
  // of the scale): at least 1e-4 of it (a threshold chosen, not measured: a graph without edges gives 0 for the
  // strain).
  CHECK(graph::build_crystal_graph(a, "GaN").num_edges() > 0);
  Structure strained = a;
  strained.lattice *= 1.1;
  Structure aln = a;
  for (auto& z : aln.numbers)
    if (z == 31) z = 13;
  const auto ctrl = p.predict({strained, aln});
  REQUIRE(ctrl.size() == 2);
  REQUIRE(ctrl[0].spectrum.size() == 2001);
  REQUIRE(ctrl[1].spectrum.size() == 2001);
  double d_strain = 0, d_species = 0;
  for (std::size_t k = 0; k < 2001; ++k) {
    d_strain = std::max(d_strain, std::abs(ctrl[0].spectrum[k] - r[0].spectrum[k]));
    d_species = std::max(d_species, std::abs(ctrl[1].spectrum[k] - r[0].spectrum[k]));
  }
  CAPTURE(scale, d_strain, d_species);
  CHECK(d_strain > 1e-4 * scale);
  CHECK(d_species > 1e-4 * scale);
}

TEST_CASE("model: the paper's Ca4SbTe2Br CIF predicts like its primitive cell", "[reference][ml][model][shared]") {
  const auto cif = test::shared_dir() / "structures" / "agm004850436_Ca4SbTe2Br.cif";
  RUNG_REQUIRE_SHARED(cif);
  const auto conventional = read_structure(cif);
  // Fmm2 (F-centred): the primitive cell holds a quarter of the atoms.
  Structure prim;
  prim.id = "prim";
  const Eigen::Matrix3d L = conventional.lattice;
  prim.lattice.row(0) = 0.5 * (L.row(1) + L.row(2));
  prim.lattice.row(1) = 0.5 * (L.row(0) + L.row(2));
  prim.lattice.row(2) = 0.5 * (L.row(0) + L.row(1));
  const Eigen::Matrix3d to_prim = prim.lattice.transpose().inverse() * L.transpose();
  for (std::size_t i = 0; i < conventional.size(); ++i) {
    Eigen::Vector3d f = to_prim * conventional.frac[i];
    for (int k = 0; k < 3; ++k) f[k] -= std::floor(f[k] + 1e-9);
    bool dup = false;
    for (const auto& g : prim.frac) dup = dup || (g - f).cwiseAbs().maxCoeff() < 1e-6;
    if (!dup) {
      prim.frac.push_back(f);
      prim.numbers.push_back(conventional.numbers[i]);
    }
  }
  REQUIRE(prim.size() == 8);
  auto p = SpectrumPredictor::load(random_model("ca4.h5", "ipa"));
  const auto r = p.predict({conventional, prim});
  double scale = 0, d = 0;
  for (std::size_t k = 0; k < 2001; ++k) {
    scale = std::max(scale, std::abs(r[0].spectrum[k]));
    d = std::max(d, std::abs(r[1].spectrum[k] - r[0].spectrum[k]));
  }
  CHECK(d <= 1e-5 * scale);
}

TEST_CASE("model: loading a model file leaves the host's random stream as it was", "[unit][ml][model][file]") {
  const auto path = random_model("rng.h5", R"({"node_mlp":[8,8],"gat":[[4,2]],"out_mlp":[16]})", Target::rpa, 2);
  torch::manual_seed(11);
  const auto expected = torch::rand({4});
  torch::manual_seed(11);
  const auto members = load_model_file(path);  // builds two networks, whose initial weights are random draws
  REQUIRE(members.size() == 2);
  CHECK(torch::equal(torch::rand({4}), expected));
}

namespace {
struct RecordingHandler : c10::WarningHandler {
  std::vector<std::string> messages;
  void process(const c10::SourceLocation&, const std::string& msg, const bool) override { messages.push_back(msg); }
};
}  // namespace

TEST_CASE("model: a prediction drops LibTorch's scatter_reduce note alone and puts the host's warning handler back",
          "[unit][ml][model]") {
  // (each test case runs in a process of its own: the note, which LibTorch gives once per process, comes here)
  RecordingHandler host;
  c10::WarningHandler* before = c10::Warning::get_warning_handler();
  c10::Warning::set_warning_handler(&host);
  auto p = SpectrumPredictor::load(random_model("warn.h5", "ipa"));
  CHECK(p.predict({rocksalt()}).size() == 1);
  CHECK(c10::Warning::get_warning_handler() == &host);
  {
    const HostThreadsGuard scope;
    TORCH_WARN("a warning of the host's own");  // passed on, not dropped
  }
  c10::Warning::set_warning_handler(before);
  REQUIRE(host.messages.size() == 1);
  CHECK(host.messages[0] == "a warning of the host's own");
}

TEST_CASE("model: model files round-trip and are validated on load", "[unit][ml][model][file]") {
  const auto path = random_model("roundtrip.h5", R"({"node_mlp":[8,8],"gat":[[4,2]],"out_mlp":[16]})", Target::rpa, 2);
  const auto info = read_model_info(path);
  CHECK(info.target == Target::rpa);
  CHECK(info.ensemble_size == 2);
  CHECK(info.untrained);
  CHECK(info.grid.size() == 2001);
  ModelInfo got;
  auto members = load_model_file(path, &got);
  REQUIRE(members.size() == 2);
  const auto copy = tmp("roundtrip_copy.h5");
  save_model_file(copy, got, members);
  auto again = load_model_file(copy);
  for (std::size_t m = 0; m < 2; ++m) {
    auto a = named_state(*members[m]), b = named_state(*again[m]);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].first == b[i].first);
      CHECK(torch::equal(a[i].second, b[i].second));
    }
  }
  // The two ensemble members differ (different seeds) and prediction reports their spread.
  CHECK(!torch::equal(named_state(*members[0])[0].second, named_state(*members[1])[0].second));
  auto p = SpectrumPredictor::load(path);
  const auto r = p.predict({rocksalt()});
  CHECK(r[0].spread.size() == 2001);
  CHECK(*std::max_element(r[0].spread.begin(), r[0].spread.end()) > 0);

  // Inconsistent metadata: an architecture that does not match the stored tensors.
  {
    auto f = h5::File::open(copy, true);
    f.set_attr("/", "architecture", R"({"node_mlp":[8,9],"gat":[[4,2]],"out_mlp":[16],"output_dim":2001})");
  }
  try {
    read_model_info(copy);
    FAIL("loaded a model whose tensors do not match its architecture");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("has shape"));
  }
  {
    auto f = h5::File::open(copy, true);
    f.set_attr("/", "target", "sc");
  }
  CHECK_THROWS_AS(read_model_info(copy), Error);
  {
    auto f = h5::File::create(copy);
    f.set_attr("/", "format", "something-else");
  }
  try {
    SpectrumPredictor::load(copy);
    FAIL("loaded a file that is no model");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("not a rung model file"));
  }
}

TEST_CASE("model: the SC variant predicts one number per structure", "[unit][ml][model]") {
  auto p = SpectrumPredictor::load(random_model("sc.h5", "sc", Target::sc));
  CHECK(p.info().arch.parameter_count() == 2849137);
  const auto r = p.predict({rocksalt(), wurtzite_like()});
  REQUIRE(r.size() == 2);
  CHECK(r[0].sc.has_value());
  CHECK(r[0].spectrum.empty());
  // SC cannot exceed 1, the regression head can: the head's last bias raised by 10 puts every raw output above 1,
  // and every prediction (rung predict, select, the C API) reports 1
  {
    ModelInfo info;
    auto members = load_model_file(tmp("sc.h5"), &info);
    {
      torch::NoGradGuard ng;
      auto state = named_state(*members[0]);
      std::string last;
      for (auto& [name, t] : state)
        if (name.find(".lins.") != std::string::npos && name.ends_with(".bias")) last = name;
      REQUIRE(!last.empty());
      for (auto& [name, t] : state)
        if (name == last) t.add_(10.0);
    }
    save_model_file(tmp("sc_high.h5"), info, members);
    const auto high = SpectrumPredictor::load(tmp("sc_high.h5")).predict({rocksalt(), wurtzite_like()});
    for (const auto& h : high) CHECK(h.sc == 1.0);
  }
  // Unsupported elements are refused with the structure's name.
  Structure fe = rocksalt();
  fe.numbers[0] = 26;
  fe.id = "with-iron";
  try {
    p.predict({fe});
    FAIL("predicted for iron");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("with-iron"));
  }
}

TEST_CASE("model: an atom without a neighbour within the cut-off is refused, naming the structure",
          "[unit][ml][model]") {
  auto p = SpectrumPredictor::load(random_model("lonely.h5", R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[8]})"));
  // One Na in a 6 Angstrom cube: its nearest image lies beyond 5 Angstrom, the graph has no edge, and the network
  // (no self loops) would predict the same for any element.
  Structure lonely;
  lonely.id = "lonely-na";
  lonely.lattice = Eigen::Matrix3d::Identity() * units::Ang_to_Bohr(6.0);
  lonely.frac = {Eigen::Vector3d(0, 0, 0)};
  lonely.numbers = {11};
  try {
    p.predict({lonely});
    FAIL("predicted for an atom the network cannot see");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("lonely-na") && Catch::Matchers::Contains("5 Angstrom"));
  }
  lonely.frac.push_back(Eigen::Vector3d(0.5, 0, 0));  // a Cl 3 Angstrom away: both atoms have a neighbour
  lonely.numbers.push_back(17);
  CHECK(p.predict({lonely}).size() == 1);
}

TEST_CASE("model: loading and predicting put the process's thread counts back, under the CLI's runtime too",
          "[unit][ml][model]") {
  // The tests run with the CLI's runtime (the pools are managed): a predictor with threads = 1 sets OpenMP and
  // OpenBLAS to one thread for its calls only, so that a native RPA after it in the same process keeps its threads.
  const auto model = random_model("threads.h5", R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[8]})");
  const int omp_before = openmp_max_threads(), blas_before = openblas_threads();  // blas: 0 without OpenBLAS
  set_openmp_threads(3);
  if (blas_before > 0) set_openblas_threads(3);
  const bool have_omp = openmp_max_threads() == 3;  // false without an OpenMP runtime: nothing to check there
  {
    PredictorOptions o;
    o.threads = 1;
    auto p = SpectrumPredictor::load(model, o);
    if (have_omp) CHECK(openmp_max_threads() == 3);
    if (blas_before > 0) CHECK(openblas_threads() == 3);
    CHECK(p.predict({rocksalt()}).size() == 1);
    if (have_omp) CHECK(openmp_max_threads() == 3);
    if (blas_before > 0) CHECK(openblas_threads() == 3);
  }
  set_openmp_threads(omp_before);
  if (blas_before > 0) set_openblas_threads(blas_before);
}

TEST_CASE("model: a non-finite prediction and a negative BatchNorm variance are refused", "[unit][ml][model][file]") {
  const auto arch = Architecture::parse(R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[16]})", 2001);
  torch::manual_seed(5);
  std::vector<OptimateNet> members{OptimateNet(arch)};
  ModelInfo info;
  info.target = Target::ipa;
  info.arch = arch;
  info.weights = "float32";
  {
    // Finite weights whose output overflows float32: every hidden unit of the output MLP is 1 (zero weights, bias
    // 1, BatchNorm at its initial statistics), and the last layer sums 16 of them times 3e38, plus 3e38.
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*members[0])) {
      if (name == "mlp1.lins.0.weight") t.fill_(0.0);
      if (name == "mlp1.lins.0.bias") t.fill_(1.0);
      if (name == "mlp1.lins.1.weight" || name == "mlp1.lins.1.bias") t.fill_(3e38);
    }
  }
  const auto overflow = tmp("overflow.h5");
  save_model_file(overflow, info, members);
  auto p = SpectrumPredictor::load(overflow);  // every stored value is finite
  try {
    p.predict({rocksalt()});
    FAIL("reported a non-finite prediction");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("NaCl") && Catch::Matchers::Contains(overflow.string()));
  }
  {
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*members[0]))
      if (name == "mlp1.norms.0.module.running_var") t.view(-1)[3] = -0.5;
  }
  const auto negative = tmp("negative_variance.h5");
  save_model_file(negative, info, members);
  try {
    load_model_file(negative);
    FAIL("loaded a negative BatchNorm variance");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("mlp1.norms.0.module.running_var"));
  }
}

// A BatchNorm of 1024 channels (the head's hidden layer): its running mean and variance stay float32 in a float16
// file. Half precision keeps 11 bits: a mean of 1000.3 would come back as 1000.5, a shift of 0.2 / sqrt(var) after
// the normalisation (2 standard deviations with var 0.01), while the layer's 1024 x 16 weight is halved.
TEST_CASE("model: a BatchNorm's running statistics stay float32 in a float16 file", "[unit][ml][model][file]") {
  const auto arch = Architecture::parse(R"({"node_mlp":[16,16],"gat":[[8,2]],"out_mlp":[1024]})", 2001);
  torch::manual_seed(4);
  std::vector<OptimateNet> members{OptimateNet(arch)};
  std::map<std::string, torch::Tensor> original;
  {
    torch::NoGradGuard ng;
    for (auto& [name, t] : named_state(*members[0])) {
      if (!t.is_floating_point()) continue;
      if (name.find("running_mean") != std::string::npos) t.uniform_(999.0, 1001.0);
      else if (name.find("running_var") != std::string::npos) t.uniform_(0.01, 0.02);
      else t.uniform_(-0.7, 0.7);
    }
  }
  for (auto& [name, t] : named_state(*members[0])) original[name] = t.clone();
  ModelInfo info;
  info.target = Target::ipa;
  info.arch = arch;
  info.weights = "float16";
  const auto path = tmp("batchnorm16.h5");
  save_model_file(path, info, members);
  auto loaded = load_model_file(path);
  std::size_t stats = 0, halved = 0;
  for (auto& [name, t] : named_state(*loaded[0])) {
    INFO(name);
    if (!t.is_floating_point() || t.numel() < 1024) continue;
    const auto& o = original.at(name);
    if (name.find("running_") != std::string::npos) {
      CHECK(torch::equal(t, o));
      ++stats;
    } else {
      CHECK(torch::equal(t, o.to(torch::kFloat16).to(torch::kFloat32)));
      ++halved;
    }
  }
  CHECK(stats == 2);   // the 1024-channel BatchNorm's mean and variance
  CHECK(halved >= 3);  // the head's 1024 x 16, 2001 x 1024 weights and 1024-wide bias...
}

TEST_CASE("model: float16 weights on disk, float32 in memory, float32 and version-1 files still read",
          "[unit][ml][model][file]") {
  const auto arch = Architecture::parse(R"({"node_mlp":[16,16],"gat":[[8,2]],"out_mlp":[64]})", 2001);
  torch::manual_seed(3);
  std::vector<OptimateNet> members{OptimateNet(arch)};
  // The tensors of >= 1024 values, which float16 storage halves: the output MLP's first weight (64 x 16, exactly
  // 1024 values) and its last weight (2001 x 64) and bias (2001).
  const std::string out_of_range = "mlp1.lins.0.weight";
  {
    // Arbitrary float32 values (not representable in half precision), one beyond its range (65504) in a tensor
    // that would be stored in half precision: that tensor must stay float32 (not the dominant 2001 x 64 weight,
    // whose halving the file-size check below measures).
    torch::NoGradGuard ng;
    bool placed = false;
    for (auto& [name, t] : named_state(*members[0])) {
      const bool variance = name.size() > 12 && name.compare(name.size() - 12, 12, ".running_var") == 0;
      if (t.is_floating_point()) variance ? t.uniform_(0.1, 1.5) : t.uniform_(-0.7, 0.7);  // (a variance is >= 0)
      if (name == out_of_range) {
        REQUIRE(t.numel() >= 1024);
        t.view(-1)[0] = 1e5;
        placed = true;
      }
    }
    REQUIRE(placed);
  }
  std::map<std::string, torch::Tensor> original;
  for (auto& [name, t] : named_state(*members[0])) original[name] = t.clone();
  ModelInfo info;
  info.target = Target::ipa;
  info.arch = arch;
  info.weights = "float16";
  const auto half_path = tmp("weights16.h5"), full_path = tmp("weights32.h5");
  save_model_file(half_path, info, members);
  info.weights = "float32";
  save_model_file(full_path, info, members);
  CHECK(read_model_info(half_path).weights == "float16");
  CHECK(read_model_info(full_path).weights == "float32");
  // The output layer (64 x 2001) dominates: the half-precision file is close to half the size.
  const double ratio = double(fs::file_size(full_path)) / double(fs::file_size(half_path));
  INFO("float32 / float16 file size " << ratio);
  CHECK(ratio > 1.8);

  auto loaded = load_model_file(half_path);
  std::size_t halved = 0, kept_beyond_range = 0;
  for (auto& [name, t] : named_state(*loaded[0])) {
    INFO(name);
    const auto& o = original.at(name);
    CHECK(t.scalar_type() == o.scalar_type());  // float32 in memory
    if (!t.is_floating_point()) continue;
    const bool beyond_range = o.abs().max().item<double>() > 65504;
    CHECK(beyond_range == (name == out_of_range));
    if (t.numel() >= 1024 && !beyond_range) {
      // Exactly LibTorch's round-to-nearest-even half of the original: relative error <= 2^-11.
      CHECK(torch::equal(t, o.to(torch::kFloat16).to(torch::kFloat32)));
      CHECK(((t - o).abs() / o.abs().clamp_min(6.2e-5)).max().item<double>() <= std::ldexp(1.0, -11));
      ++halved;
    } else {
      CHECK(torch::equal(t, o));  // small tensors and out-of-range ones stay float32, bit for bit
      if (t.numel() >= 1024) {
        // the float32 fallback of a tensor half precision cannot hold: 1e5 and every other value exact
        CHECK(t.view(-1)[0].item<float>() == 1e5f);
        ++kept_beyond_range;
      }
    }
  }
  CHECK(halved == 2);  // the last weight and bias
  CHECK(kept_beyond_range == 1);
  // round_to_storage gives the network in memory exactly the weights it will have after loading.
  round_to_storage(members, "float16");
  auto a = named_state(*members[0]), b = named_state(*loaded[0]);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i].second, b[i].second));

  // A version-1 file (before float16 storage: no "weights" attribute is consulted) reads as float32.
  {
    auto f = h5::File::open(full_path, true);
    f.set_attr("/", "format_version", std::int64_t(1));
  }
  const auto v1 = read_model_info(full_path);
  CHECK(v1.format_version == 1);
  CHECK(v1.weights == "float32");
  auto from_v1 = load_model_file(full_path);
  std::size_t compared = 0, large = 0;
  for (auto& [name, t] : named_state(*from_v1[0])) {
    if (!t.is_floating_point()) continue;
    INFO(name);
    CHECK(torch::equal(t, original.at(name)));  // float32 on disk: every value as it was
    ++compared;
    large += t.numel() >= 1024;
  }
  CHECK(compared >= 10);
  CHECK(large == 3);
  {
    auto f = h5::File::open(full_path, true);
    f.set_attr("/", "format_version", std::int64_t(2));
    f.set_attr("/", "weights", "bfloat16");
  }
  CHECK_THROWS_AS(read_model_info(full_path), Error);
}

// Transfer learning with a frozen body: the frozen parts (weights and BatchNorm statistics) leave training exactly
// as --init gave them, the rest moves; frozen parts need --init and must be parts the network has.
TEST_CASE("training: --freeze keeps the frozen parts of the --init model bit for bit", "[unit][ml][train]") {
  OptimateDataset data;
  for (int k = 0; k < 8; ++k) {
    DatasetMaterial m;
    m.id = "frz" + std::to_string(k);
    m.structure = rocksalt(5.0 + 0.2 * k);
    const int anion = std::array<int, 3>{9, 17, 35}[std::size_t(k % 3)];
    m.structure.numbers = {11, 11, 11, 11, anion, anion, anion, anion};
    m.eps_imag_ipa.assign(2001, 0.f);
    m.eps_imag_rpa.assign(2001, 0.f);
    for (int i = 0; i < 2001; ++i) {
      const double e = 0.01 * i, c = 4.0 + 0.7 * k;
      m.eps_imag_ipa[std::size_t(i)] = float(3 * std::exp(-(e - c) * (e - c)));
      m.eps_imag_rpa[std::size_t(i)] = float(2 * std::exp(-(e - c - 0.5) * (e - c - 0.5)));
    }
    data.materials.push_back(m);
  }
  TrainOptions t;
  t.arch = R"({"node_mlp":[8,8],"gat":[[4,2]],"out_mlp":[16]})";
  t.epochs = 2;
  t.batch = 4;
  t.progress = false;
  const auto init = tmp("freeze_init.h5"), tuned = tmp("freeze_tuned.h5");
  train_model(data, "frozen", t, init);

  TrainOptions tl;
  tl.target = Target::rpa;
  tl.init = init;
  tl.epochs = 3;
  tl.batch = 4;
  tl.lr = 1e-2;
  tl.progress = false;
  tl.freeze = {"node", "gat"};
  train_model(data, "frozen", tl, tuned);
  auto before = load_model_file(init), after = load_model_file(tuned);
  const auto a = named_state(*before[0]), b = named_state(*after[0]);
  REQUIRE(a.size() == b.size());
  int frozen = 0, moved_in_head = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].first == b[i].first);
    const auto& name = a[i].first;
    if (name.rfind("mlp_init_node", 0) == 0 || name.rfind("gat", 0) == 0) {
      INFO(name);
      CHECK(torch::equal(a[i].second, b[i].second));  // weights and running statistics alike
      ++frozen;
    }
    if (name.rfind("mlp1", 0) == 0 && !torch::equal(a[i].second, b[i].second)) ++moved_in_head;
  }
  CHECK(frozen >= 8);  // the node MLP's and the GATv2 layer's tensors were all looked at
  CHECK(moved_in_head > 0);
  CHECK(read_model_info(tuned).training.at("frozen") == nlohmann::json::array({"node", "gat"}));

  tl.freeze = {"head"};
  CHECK_THROWS_AS(train_model(data, "frozen", tl, tmp("freeze_bad.h5")), Error);
  tl.freeze = {"gat"};
  tl.init.reset();
  CHECK_THROWS_AS(train_model(data, "frozen", tl, tmp("freeze_bad.h5")), Error);
  CHECK_FALSE(fs::exists(tmp("freeze_bad.h5")));
}
