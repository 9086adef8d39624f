// Training loop (spec §3). CPU fp32 (the authors used bf16 autocast on GPUs: a documented deviation).
#include "ml/trainer.hpp"

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/progress.hpp"
#include "ml/optimate_net.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <numeric>
#include <map>
#include <random>
#include <set>

namespace rung::ml {
namespace {

std::set<std::string> read_id_list(const std::filesystem::path& file) {
  std::set<std::string> ids;
  std::ifstream in(file);
  if (!in) fail_input(file, "cannot open split list");
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    ids.insert(line.substr(b, e - b + 1));
  }
  return ids;
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Example {
  const graph::CrystalGraph* graph;
  std::vector<float> target;  // output_dim values
};

torch::Tensor stack_targets(const std::vector<const Example*>& ex) {
  const std::int64_t d = std::int64_t(ex.front()->target.size());
  auto t = torch::empty({std::int64_t(ex.size()), d}, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (std::size_t i = 0; i < ex.size(); ++i) std::copy(ex[i]->target.begin(), ex[i]->target.end(), p + i * d);
  return t;
}

// Forward (eval mode) over a set; returns predictions row by row.
std::vector<std::vector<float>> predict_set(OptimateNetImpl& net, const std::vector<Example>& set, int batch) {
  torch::NoGradGuard ng;
  net.eval();
  std::vector<std::vector<float>> out;
  for (std::size_t s = 0; s < set.size(); s += std::size_t(batch)) {
    std::vector<const graph::CrystalGraph*> g;
    for (std::size_t i = s; i < std::min(set.size(), s + std::size_t(batch)); ++i) g.push_back(set[i].graph);
    const auto y = net.forward(make_batch(g)).contiguous();
    const float* p = y.data_ptr<float>();
    for (std::int64_t i = 0; i < y.size(0); ++i) out.emplace_back(p + i * y.size(1), p + (i + 1) * y.size(1));
  }
  return out;
}

double mean_l1(OptimateNetImpl& net, const std::vector<Example>& set, int batch) {
  const auto pred = predict_set(net, set, batch);
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < set.size(); ++i)
    for (std::size_t k = 0; k < pred[i].size(); ++k, ++n) sum += std::abs(double(pred[i][k]) - set[i].target[k]);
  return n ? sum / double(n) : std::nan("");
}

nlohmann::json test_metrics(OptimateNetImpl& net, const std::vector<Example>& set, Target target, const EnergyGrid& grid) {
  if (set.empty()) return {{"n", 0}};
  const auto pred = predict_set(net, set, 64);
  nlohmann::json m = {{"n", set.size()}};
  if (target == Target::sc) {
    std::vector<double> err;
    for (std::size_t i = 0; i < set.size(); ++i) err.push_back(std::abs(double(pred[i][0]) - set[i].target[0]));
    double mean = 0;
    for (double e : err) mean += e / double(err.size());
    m["mean_abs_sc_error"] = mean;
    m["median_abs_sc_error"] = median(err);
  } else {
    const auto omega = grid.values_eV();
    std::vector<double> sc, mse, mae;
    for (std::size_t i = 0; i < set.size(); ++i) {
      const std::vector<double> p(pred[i].begin(), pred[i].end()), t(set[i].target.begin(), set[i].target.end());
      const auto d = spectral_distance(omega, p, t);
      sc.push_back(d.sc);
      mse.push_back(d.mse);
      mae.push_back(d.mae);
    }
    m["median_sc"] = median(sc);
    m["median_mse"] = median(mse);
    m["median_mae"] = median(mae);
  }
  return m;
}

}  // namespace

Split assign_split(const OptimateDataset& data, const std::optional<std::filesystem::path>& split_dir) {
  std::set<std::string> train, val, test;
  if (split_dir) {
    require_exists(*split_dir);
    train = read_id_list(*split_dir / "train_set.txt");
    val = read_id_list(*split_dir / "validation_set.txt");
    test = read_id_list(*split_dir / "test_set.txt");
  }
  Split s;
  for (const auto& m : data.materials) {
    if (train.count(m.id)) s.subset.push_back(Subset::train);
    else if (val.count(m.id)) s.subset.push_back(Subset::validation);
    else if (test.count(m.id)) s.subset.push_back(Subset::test);
    else {
      // Not listed: by formula (as the paper splits), 80/10/10, independent of the seed.
      const auto h = fnv1a(m.structure.formula()) % 10;
      s.subset.push_back(h == 8 ? Subset::validation : h == 9 ? Subset::test : Subset::train);
      continue;
    }
    ++s.from_files;
  }
  return s;
}

TrainResult train_model(const OptimateDataset& data, const std::string& fingerprint, const TrainOptions& opt,
                        const std::filesystem::path& output) {
  const auto t0 = std::chrono::steady_clock::now();
  configure_torch_threads(opt.threads);
  if (opt.epochs < 0) fail_usage("--epochs must be >= 0");
  if (opt.batch < 2 && opt.epochs > 0) fail_usage("--batch must be >= 2 (BatchNorm needs two graphs per batch)");
  if (opt.lr <= 0 || opt.weight_decay < 0) fail_usage("--lr must be > 0 and --weight-decay >= 0");
  if (opt.ensemble < 1) fail_usage("--ensemble must be >= 1");
  if (opt.val_every < 1) fail_usage("--val-every must be >= 1");

  TrainResult result;
  ModelInfo& info = result.info;
  info.target = opt.target;
  info.grid = data.grid;
  info.training_dataset = fingerprint;
  const int out_dim = output_dim_for(opt.target, int(data.grid.size()));

  // Architecture: from --init (transfer learning) or --arch / the preset.
  std::vector<OptimateNet> init_members;
  if (opt.init) {
    ModelInfo init_info;
    init_members = load_model_file(*opt.init, &init_info);
    if (init_info.arch.output_dim != out_dim)
      fail_input(*opt.init, fmt::format("--init model outputs {} values but target {} needs {}", init_info.arch.output_dim,
                                        to_string(opt.target), out_dim));
    if (!opt.arch.empty()) {
      const auto a = Architecture::parse(opt.arch, out_dim);
      if (!(a == init_info.arch)) fail_usage("--arch differs from the --init model's architecture");
    }
    info.arch = init_info.arch;
  } else {
    info.arch = Architecture::parse(opt.arch.empty() ? (opt.target == Target::sc ? "sc" : "ipa") : opt.arch, out_dim);
  }

  // Examples: graphs and targets, per subset.
  const Split split = assign_split(data, opt.split_dir);
  std::vector<graph::CrystalGraph> graphs;
  graphs.reserve(data.materials.size());
  std::vector<Example> train, val, test;
  result.counts.from_split_files = split.from_files;
  // The target vector of a material for this model (empty: the material has no such label).
  auto target_of = [&](const auto& m) -> std::vector<float> {
    if (opt.target == Target::ipa) return m.eps_imag_ipa;
    if (opt.target == Target::rpa) return m.eps_imag_rpa;
    if (m.sc_ipa_rpa) return {float(*m.sc_ipa_rpa)};
    return {};
  };
  for (std::size_t i = 0; i < data.materials.size(); ++i) {
    const auto& m = data.materials[i];
    if (target_of(m).empty()) {
      ++result.counts.skipped;
      continue;
    }
    graph::validate_for_model(m.structure, "data set material " + m.id);
    graphs.push_back(graph::build_crystal_graph(m.structure, "data set material " + m.id));
  }
  // Second pass (graphs' addresses are stable now).
  std::size_t gi = 0;
  for (std::size_t i = 0; i < data.materials.size(); ++i) {
    std::vector<float> y = target_of(data.materials[i]);
    if (y.empty()) continue;
    Example ex{&graphs[gi++], std::move(y)};
    (split.subset[i] == Subset::train ? train : split.subset[i] == Subset::validation ? val : test).push_back(std::move(ex));
  }
  result.counts.train = train.size();
  result.counts.validation = val.size();
  result.counts.test = test.size();
  if (opt.epochs > 0 && train.size() < 2)
    fail_usage(fmt::format("data set: only {} training materials with a {} target (need >= 2)", train.size(),
                                        to_string(opt.target)));

  std::vector<OptimateNet> members;
  nlohmann::json member_log = nlohmann::json::array();
  Progress progress("train", std::size_t(std::max(1, opt.epochs)) * std::size_t(opt.ensemble), opt.progress);
  for (int k = 0; k < opt.ensemble; ++k) {
    const std::uint64_t seed = opt.seed + std::uint64_t(k);
    torch::manual_seed(seed);
    OptimateNet net(info.arch);
    if (!init_members.empty()) copy_state(*init_members[std::size_t(k) % init_members.size()], *net);
    OptimateNet best(info.arch);
    copy_state(*net, *best);
    double best_val = std::numeric_limits<double>::infinity();
    int best_epoch = 0;
    torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(opt.lr).weight_decay(opt.weight_decay));
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
    std::vector<std::size_t> order(train.size());
    result.train_loss.clear();
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      net->train();
      std::iota(order.begin(), order.end(), std::size_t(0));
      std::shuffle(order.begin(), order.end(), rng);
      double loss_sum = 0;
      std::size_t loss_n = 0;
      for (std::size_t s = 0; s < order.size(); s += std::size_t(opt.batch)) {
        const std::size_t e = std::min(order.size(), s + std::size_t(opt.batch));
        if (e - s < 2) continue;  // BatchNorm cannot train on a single graph (PyG drop_last for this case)
        std::vector<const graph::CrystalGraph*> g;
        std::vector<const Example*> ex;
        for (std::size_t i = s; i < e; ++i) {
          g.push_back(train[order[i]].graph);
          ex.push_back(&train[order[i]]);
        }
        const auto pred = net->forward(make_batch(g));
        const auto loss = torch::l1_loss(pred, stack_targets(ex));
        adam.zero_grad();
        loss.backward();
        adam.step();
        loss_sum += loss.item<double>() * double(e - s);
        loss_n += e - s;
      }
      result.train_loss.push_back(loss_n ? loss_sum / double(loss_n) : std::nan(""));
      if (epoch % opt.val_every == 0 || epoch == opt.epochs) {
        const double v = val.empty() ? result.train_loss.back() : mean_l1(*net, val, 128);
        if (v < best_val) {
          best_val = v;
          best_epoch = epoch;
          copy_state(*net, *best);
        }
      }
      progress.advance();
    }
    if (opt.epochs == 0) progress.advance();
    best->eval();
    members.push_back(best);
    nlohmann::json log = {{"seed", seed}, {"best_epoch", best_epoch}};
    if (opt.epochs > 0) {
      log[val.empty() ? "best_train_l1" : "best_validation_l1"] = best_val;
      log["final_train_l1"] = result.train_loss.back();
    }
    member_log.push_back(log);
  }
  progress.finish();

  info.ensemble_size = opt.ensemble;
  info.untrained = opt.epochs == 0 && !opt.init;
  info.training = {{"epochs", opt.epochs}, {"lr", opt.lr}, {"batch", opt.batch}, {"weight_decay", opt.weight_decay},
                   {"seed", opt.seed}, {"val_every", opt.val_every}, {"optimizer", "Adam (coupled L2 weight decay)"},
                   {"loss", "L1"}, {"precision", "float32"}, {"members", member_log},
                   {"init", opt.init ? opt.init->string() : ""},
                   {"split", opt.split_dir ? opt.split_dir->string() : ""},
                   {"counts", {{"train", train.size()}, {"validation", val.size()}, {"test", test.size()},
                               {"skipped", result.counts.skipped}, {"from_split_files", split.from_files}}}};
  if (opt.epochs > 0 || opt.init) {
    info.metrics = {{"test", test_metrics(*members.front(), test, opt.target, data.grid)},
                    {"validation", test_metrics(*members.front(), val, opt.target, data.grid)}};
  }
  save_model_file(output, info, members);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

double time_training_step(const std::vector<const graph::CrystalGraph*>& graphs, const Architecture& arch, int batch,
                          int steps) {
  if (graphs.size() < std::size_t(batch) || batch < 2) fail("time_training_step: not enough graphs");
  torch::manual_seed(0);
  OptimateNet net(arch);
  net->train();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-4).weight_decay(1e-4));
  std::vector<const graph::CrystalGraph*> g(graphs.begin(), graphs.begin() + batch);
  const auto b = make_batch(g);
  const auto target = torch::rand({std::int64_t(batch), std::int64_t(arch.output_dim)});
  auto step = [&] {
    const auto loss = torch::l1_loss(net->forward(b), target);
    adam.zero_grad();
    loss.backward();
    adam.step();
  };
  step();  // warm-up (allocations)
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
}

}  // namespace rung::ml
