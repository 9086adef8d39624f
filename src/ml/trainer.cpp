// Training loop (doc/ml-model.md, Training). CPU fp32 (the authors used bf16 autocast on GPUs: a documented deviation).
#include "ml/trainer.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/metrics.hpp"
#include "core/progress.hpp"
#include "core/timestamp.hpp"
#include "io/hdf5_file.hpp"
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

double median(const std::vector<double>& v) { return quantile(v, 0.5); }

struct Example {
  const graph::CrystalGraph* graph;
  std::vector<float> target;  // output_dim values
  const DatasetMaterial* material;
};

// The graphs (owned) and the examples of the three subsets, pointing into them.
struct ExampleSets {
  std::vector<graph::CrystalGraph> graphs;
  std::vector<Example> train, val, test;
  SplitCounts counts;
  std::vector<Example>& of(Subset s) { return s == Subset::train ? train : s == Subset::validation ? val : test; }
};

// Whether the paper's filters keep a material: its gap and direct gap from the full tier, else from the lite tier
// (a lite-only material, or one whose full tier failed, keeps its record under "lite"). A material with no gap in
// either (a data set made elsewhere, without provenance) is kept.
bool passes_filter(const DatasetMaterial& m, const DataFilter& f) {
  const auto p = m.provenance.empty() ? nlohmann::json() : nlohmann::json::parse(m.provenance, nullptr, false);
  const auto number = [](const nlohmann::json& r, const char* key) -> std::optional<double> {
    if (r.is_object() && r.contains(key) && r[key].is_number()) return r[key].get<double>();
    return std::nullopt;
  };
  const auto either = [&](const char* key) {
    const auto v = number(p, key);
    return v ? v : (p.is_object() && p.contains("lite")) ? number(p["lite"], key) : std::nullopt;
  };
  const std::optional<double> gap = m.gap_eV ? m.gap_eV : either("gap_eV");
  const std::optional<double> direct = either("direct_gap_eV");
  return !(gap && *gap < f.min_gap_eV) && !(direct && *direct > f.max_direct_gap_eV);
}

// The target vector of a material for a model (empty: the material has no such label).
std::vector<float> target_of(const DatasetMaterial& m, Target target, IpaSource ipa_source = IpaSource::full) {
  if (target == Target::ipa) {
    if (ipa_source == IpaSource::lite) return m.eps_imag_lite;
    if (ipa_source == IpaSource::any && m.eps_imag_ipa.empty()) return m.eps_imag_lite;
    return m.eps_imag_ipa;
  }
  if (target == Target::rpa) return m.eps_imag_rpa;
  if (m.sc_ipa_rpa) return {float(*m.sc_ipa_rpa)};
  return {};
}

ExampleSets make_examples(const OptimateDataset& data, Target target, const Split& split, const DataFilter& filter,
                          IpaSource ipa_source = IpaSource::full) {
  ExampleSets sets;
  sets.counts.from_split_files = split.from_files;
  sets.graphs.reserve(data.materials.size());  // no reallocation: examples point into it
  for (std::size_t i = 0; i < data.materials.size(); ++i) {
    const auto& m = data.materials[i];
    std::vector<float> y = target_of(m, target, ipa_source);
    if (y.empty()) {
      ++sets.counts.skipped;
      continue;
    }
    if (!passes_filter(m, filter)) {
      ++sets.counts.filtered;
      continue;
    }
    graph::validate_for_model(m.structure, "data set material " + m.id);
    sets.graphs.push_back(graph::build_crystal_graph(m.structure, "data set material " + m.id));
    sets.of(split.subset[i]).push_back(Example{&sets.graphs.back(), std::move(y), &m});
  }
  sets.counts.train = sets.train.size();
  sets.counts.validation = sets.val.size();
  sets.counts.test = sets.test.size();
  return sets;
}

// The sets a model is scored on (its best epoch chosen by, its metrics computed on): every ipa model is scored
// against the full IPA spectra, so for a model that learned lite spectra the full sets are built here; any other
// model is scored on the sets it learned from (`separate` false, `full` left empty).
struct ScoringSets {
  bool separate = false;
  ExampleSets full;
  const ExampleSets& of(const ExampleSets& learned) const { return separate ? full : learned; }
};

ScoringSets scoring_sets(const OptimateDataset& data, Target target, const Split& split, const DataFilter& filter,
                         IpaSource learned) {
  ScoringSets s;
  s.separate = target == Target::ipa && learned != IpaSource::full;
  if (s.separate) s.full = make_examples(data, target, split, filter);
  return s;
}

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

// The validation measure of the relative and the mixed loss (see Loss).
double relative_l1(OptimateNetImpl& net, const std::vector<Example>& set, int batch, Loss loss) {
  std::vector<std::vector<float>> targets;
  targets.reserve(set.size());
  for (const auto& e : set) targets.push_back(e.target);
  const auto pred = predict_set(net, set, batch);
  return loss == Loss::mixed ? mixed_relative_l1(pred, targets) : mean_relative_l1(pred, targets);
}

// Ensemble mean of the members' predictions.
std::vector<std::vector<float>> predict_ensemble(const std::vector<OptimateNet>& members, const std::vector<Example>& set) {
  OptimateNet first = members.front();  // holders share the module: a copy is a handle
  auto mean = predict_set(*first, set, 64);
  for (std::size_t k = 1; k < members.size(); ++k) {
    OptimateNet member = members[k];
    const auto p = predict_set(*member, set, 64);
    for (std::size_t i = 0; i < mean.size(); ++i)
      for (std::size_t j = 0; j < mean[i].size(); ++j) mean[i][j] += p[i][j];
  }
  for (auto& row : mean)
    for (auto& v : row) v /= float(members.size());
  return mean;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / double(v.size());
}

// Per-material spectral distances of one predictor over a set, and their summary.
struct DistanceStats {
  std::vector<double> sc, mse, mae;
  void add(const SpectralDistance& d) {
    sc.push_back(d.sc);
    mse.push_back(d.mse);
    mae.push_back(d.mae);
  }
  nlohmann::json summary() const {
    return {{"median_sc", median(sc)}, {"mean_sc", mean_of(sc)}, {"median_mse", median(mse)}, {"median_mae", median(mae)}};
  }
};

// Metrics of `members` on `set` (see Evaluation); fills `per_material` when given.
nlohmann::json set_metrics(const std::vector<OptimateNet>& members, const std::vector<Example>& set, Target target,
                           const EnergyGrid& grid, const OutputProcessing& output, nlohmann::json* per_material = nullptr) {
  if (set.empty()) return {{"n", 0}};
  const auto pred = predict_ensemble(members, set);
  nlohmann::json m = {{"n", set.size()}};
  if (target == Target::sc) {
    std::vector<double> err;
    for (std::size_t i = 0; i < set.size(); ++i) {
      // the SC a decision uses is capped at 1 (select's model predictor): scored the same way
      const double capped = std::min(1.0, double(pred[i][0]));
      err.push_back(std::abs(capped - set[i].target[0]));
      if (per_material)
        per_material->push_back({{"id", set[i].material->id},
                                 {"formula", set[i].material->structure.formula()},
                                 {"predicted", capped},
                                 {"true", set[i].target[0]}});
    }
    m["mean_abs_sc_error"] = mean_of(err);
    m["median_abs_sc_error"] = median(err);
    return m;
  }
  const auto omega = grid.values_eV();
  DistanceStats model, baseline;  // baseline: the DFT IPA spectrum taken as the RPA prediction
  for (std::size_t i = 0; i < set.size(); ++i) {
    const std::vector<double> t(set[i].target.begin(), set[i].target.end());
    const auto p = process_spectrum(omega, std::vector<double>(pred[i].begin(), pred[i].end()), output);
    const auto d = spectral_distance(omega, p, t);
    model.add(d);
    nlohmann::json row = {{"id", set[i].material->id}, {"formula", set[i].material->structure.formula()},
                          {"sc", d.sc}, {"mse", d.mse}, {"mae", d.mae}};
    const auto& ipa = set[i].material->eps_imag_ipa;
    if (target == Target::rpa && !ipa.empty()) {
      const auto db = spectral_distance(omega, std::vector<double>(ipa.begin(), ipa.end()), t);
      baseline.add(db);
      row["ipa_as_rpa_sc"] = db.sc;
      row["ipa_as_rpa_mse"] = db.mse;
    }
    if (per_material) per_material->push_back(row);
  }
  m.update(model.summary());
  if (!baseline.sc.empty()) {
    m["ipa_as_rpa"] = baseline.summary();
    m["ipa_as_rpa"]["n"] = baseline.sc.size();
  }
  return m;
}

// The filters a model was trained with (files from before filters existed: none).
DataFilter filter_of(const ModelInfo& info) {
  DataFilter filter{-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  if (info.training.contains("filters")) {
    filter.min_gap_eV = info.training["filters"].value("min_gap_eV", filter.min_gap_eV);
    filter.max_direct_gap_eV = info.training["filters"].value("max_direct_gap_eV", filter.max_direct_gap_eV);
  }
  return filter;
}

// --max-train N: a fixed subset of the training materials (by a hash of their ids, so N = 50 lies inside N = 100),
// the same in training and when a model file's training set is rebuilt (convert_model).
void limit_training(ExampleSets& sets, std::size_t max_train) {
  auto& train = sets.train;
  if (max_train == 0 || train.size() <= max_train) return;
  const auto key = [](const Example& e) {
    return std::make_pair(fnv1a(e.material->id, fnv1a_short_basis), e.material->id);
  };
  std::sort(train.begin(), train.end(), [&](const Example& a, const Example& b) { return key(a) < key(b); });
  train.resize(max_train);
  sets.counts.train = train.size();
}

// A model trained on split lists records their folder (training.split). Scored without them, its training
// materials would be split by the formula hash and could land in the subset scored: the caller must give the lists
// (the folder is taken as given: the same lists may lie elsewhere on another machine).
void require_recorded_split(const ModelInfo& info, const std::filesystem::path& model,
                            const std::optional<std::filesystem::path>& split_dir) {
  const auto it = info.training.find("split");
  if (split_dir || it == info.training.end() || !it->is_string() || it->get<std::string>().empty()) return;
  fail_usage(fmt::format("{} was trained on the split in {}: pass --split (that folder, or a copy of its lists)",
                         model.string(), it->get<std::string>()));
}

TrainingDomain training_domain(const std::vector<Example>& train) {
  TrainingDomain d;
  for (const auto& e : train) d.add(e.material->structure);
  return d;
}

// The raw outputs of the float32 network on `check` (the validation materials), written beside half-precision
// weights as /conversion, so that conversion_change() can tell later what the rounding changed.
void write_float32_outputs(h5::File& f, const std::vector<Example>& check, const std::vector<std::vector<float>>& raw,
                           std::int64_t output_dim) {
  if (check.empty()) return;
  std::vector<std::string> ids;
  std::vector<float> flat;
  for (std::size_t i = 0; i < check.size(); ++i) {
    ids.push_back(check[i].material->id);
    flat.insert(flat.end(), raw[i].begin(), raw[i].end());
  }
  f.write_strings("/conversion/ids", ids);
  f.write("/conversion/float32_output", flat, {check.size(), std::uint64_t(output_dim)}, true);
  f.set_attr("/conversion", "description",
             "raw network outputs of the float32 weights before they were rounded to storage, on the validation "
             "materials (ids)");
}

}  // namespace

namespace torch_impl {

namespace {
// A learning curve of a size that stays readable in `rung info` and the model file's metadata: at most 100 checks
// (every k-th when there were more, the kept epoch's and the last always among them), each loss to 6 significant
// digits.
nlohmann::json thinned_curve(const nlohmann::json& curve, int best_epoch) {
  constexpr std::size_t most = 98;  // (with the kept and the last epoch: 100)
  const std::size_t n = curve["epoch"].size();
  const std::size_t stride = n > most ? (n + most - 1) / most : 1;
  nlohmann::json out;
  for (const auto& [key, values] : curve.items()) out[key] = nlohmann::json::array();
  for (std::size_t i = 0; i < n; ++i) {
    if (i % stride != 0 && i + 1 != n && curve["epoch"][i] != best_epoch) continue;
    for (const auto& [key, values] : curve.items())
      out[key].push_back(key == "epoch" ? values[i]
                                        : nlohmann::json(std::stod(fmt::format("{:.6g}", values[i].get<double>()))));
  }
  return out;
}
}  // namespace

TrainResult train_model(const OptimateDataset& data, const std::string& fingerprint, const TrainOptions& opt,
                        const std::filesystem::path& output) {
  const auto t0 = std::chrono::steady_clock::now();
  const HostThreadsGuard host_threads(opt.threads);  // the pools for this run, put back at its end
  if (opt.epochs < 0) fail_usage("--epochs must be >= 0");
  if (opt.batch < 2 && opt.epochs > 0) fail_usage("--batch must be >= 2 (BatchNorm needs two graphs per batch)");
  if (opt.lr <= 0 || opt.weight_decay < 0) fail_usage("--lr must be > 0 and --weight-decay >= 0");
  for (const auto& part : opt.freeze)
    if (part != "node" && part != "gat" && part != "pool")
      fail_usage(fmt::format("--freeze {}: the parts that can be frozen are node, gat and pool", part));
  if (!opt.freeze.empty() && !opt.init) fail_usage("--freeze keeps weights that --init gives: it needs --init");
  if (opt.ensemble < 1) fail_usage("--ensemble must be >= 1");
  if (opt.val_every < 1) fail_usage("--val-every must be >= 1");
  if (!(opt.ema >= 0 && opt.ema < 1))
    fail_usage(fmt::format("--ema {:g}: must lie in [0, 1) (0: no average)", opt.ema));
  if (opt.loss != Loss::l1 && opt.target == Target::sc)
    fail_usage("--loss " + to_string(opt.loss) + " applies to spectra (ipa, rpa); the sc target learns by L1");
  check_output_path(output);  // (written only at the end)

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
    if (!opt.allow_foreign_init && init_info.training_dataset != fingerprint)
      fail_usage(
          fmt::format("--init {} was trained on another data set ({}) than this one ({}): its training "
                      "materials may be this run's validation or test materials. Train it on this data set, "
                      "or pass --allow-foreign-init",
                      opt.init->string(),
                      init_info.training_dataset.empty() ? "unrecorded" : init_info.training_dataset, fingerprint));
    // the same kind of split as the model it starts from: an IPA model trained on the split lists has seen every
    // training material of them, and a transfer trained without them (split by the formula hash) would put some of
    // those in its validation and test subsets, or the reverse
    {
      const auto it = init_info.training.find("split");
      const bool init_lists = it != init_info.training.end() && it->is_string() && !it->get<std::string>().empty();
      if (init_lists != bool(opt.split_dir))
        fail_usage(init_lists ? fmt::format("--init {} was trained on the split in {}: pass --split (that folder, or "
                                            "a copy of its lists), or its training materials may be scored here",
                                            opt.init->string(), it->get<std::string>())
                              : fmt::format("--init {} was trained without split lists (by the formula hash): train "
                                            "it with --split {} too, or its training materials may be scored here",
                                            opt.init->string(), opt.split_dir->string()));
    }
    if (init_info.arch.output_dim != out_dim)
      fail_input(*opt.init, fmt::format("--init model outputs {} values but target {} needs {}", init_info.arch.output_dim,
                                        to_string(opt.target), out_dim));
    // a spectrum on another energy grid (--allow-foreign-init skips the data-set check above) would be fine-tuned
    // against energies it never meant
    if (opt.target != Target::sc && !init_info.grid.same_as(data.grid, 1e-6))
      fail_input(*opt.init, fmt::format("--init model's energy grid ({:g}..{:g} eV, {} points) is not the data set's "
                                        "({:g}..{:g} eV, {} points)",
                                        init_info.grid.emin_eV, init_info.grid.emax_eV, init_info.grid.steps,
                                        data.grid.emin_eV, data.grid.emax_eV, data.grid.steps));
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
  if (opt.ipa_source != IpaSource::full && opt.target != Target::ipa)
    fail_usage("--ipa-source applies to the ipa target only");
  auto sets = make_examples(data, opt.target, split, opt.filter, opt.ipa_source);
  auto& train = sets.train;
  auto& val = sets.val;
  auto& test = sets.test;
  limit_training(sets, opt.max_train);
  result.counts = sets.counts;
  if (opt.epochs > 0 && train.size() < 2)
    fail_usage(fmt::format("data set: only {} training materials with a {} target (need >= 2)", train.size(),
                                        to_string(opt.target)));
  // A model that learns lite spectra keeps its best weights by, and is scored against, the full IPA spectra of the
  // validation and test materials that have one, like every ipa model (evaluate_model scores it so).
  const ScoringSets scoring = scoring_sets(data, opt.target, split, opt.filter, opt.ipa_source);
  const auto& score_val = scoring.of(sets).val;
  const auto& score_test = scoring.of(sets).test;

  std::vector<OptimateNet> members;
  nlohmann::json member_log = nlohmann::json::array();
  Progress progress("train", std::size_t(std::max(1, opt.epochs)) * std::size_t(opt.ensemble), opt.progress, true);
  for (int k = 0; k < opt.ensemble; ++k) {
    const std::uint64_t seed = opt.seed + std::uint64_t(k);
    torch::manual_seed(seed);
    OptimateNet net(info.arch);
    if (!init_members.empty()) copy_state(*init_members[std::size_t(k) % init_members.size()], *net);
    OptimateNet best(info.arch);
    copy_state(*net, *best);
    // the weights' moving average (TrainOptions::ema), which the checks score when there is one
    std::optional<OptimateNet> average;
    if (opt.ema > 0) {
      average.emplace(info.arch);
      copy_state(*net, **average);
    }
    OptimateNetImpl& checked = average ? **average : *net;
    std::uint64_t steps = 0;  // Adam steps of this member (the average's weighting)
    double best_val = std::numeric_limits<double>::infinity();
    int best_epoch = 0;
    std::vector<torch::nn::Module*> frozen;
    for (const auto& part : opt.freeze) {
      if (part == "node") frozen.push_back(net->mlp_init_node.get());
      if (part == "pool") frozen.push_back(net->mlp_att.get());
      if (part == "gat")
        for (auto& g : net->gats) frozen.push_back(g.get());
    }
    for (auto* m : frozen)
      for (auto& p : m->parameters()) p.set_requires_grad(false);
    std::vector<torch::Tensor> trainable;  // Adam steps (and decays) only what still wants a gradient
    for (auto& p : net->parameters())
      if (p.requires_grad()) trainable.push_back(p);
    torch::optim::Adam adam(trainable, torch::optim::AdamOptions(opt.lr).weight_decay(opt.weight_decay));
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 1);
    std::vector<std::size_t> order(train.size());
    const auto batches = epoch_batches(order.size(), std::size_t(opt.batch));  // (the same cut every epoch)
    result.train_loss.clear();
    // the member's learning curve at every check: the epoch, its mean training loss and, with validation materials,
    // the validation loss the check compares (without them it compares the training loss)
    nlohmann::json curve = {{"epoch", nlohmann::json::array()}, {"train_loss", nlohmann::json::array()}};
    // (without validation materials the average is scored on the training materials: not the epoch's own loss)
    const char* checked_key = !score_val.empty() ? "validation_loss" : opt.ema > 0 ? "checked_train_loss" : nullptr;
    if (checked_key) curve[checked_key] = nlohmann::json::array();
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      net->train();
      for (auto* m : frozen) m->eval();  // frozen BatchNorm layers keep the statistics --init gave them
      std::iota(order.begin(), order.end(), std::size_t(0));
      std::shuffle(order.begin(), order.end(), rng);
      double loss_sum = 0;
      std::size_t loss_n = 0;
      for (const auto& [s, e] : batches) {
        std::vector<const graph::CrystalGraph*> g;
        std::vector<const Example*> ex;
        for (std::size_t i = s; i < e; ++i) {
          g.push_back(train[order[i]].graph);
          ex.push_back(&train[order[i]]);
        }
        const auto pred = net->forward(make_batch(g));
        const auto target = stack_targets(ex);
        const auto diff = (pred - target).abs();
        const auto relative = (diff.sum(1) / target.abs().sum(1).clamp_min(1e-12)).mean();
        const auto loss = opt.loss == Loss::relative ? relative
                          : opt.loss == Loss::mixed
                              ? 0.5 * (relative + diff.sum() / target.abs().sum().clamp_min(1e-12))
                              : torch::l1_loss(pred, target);
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (average) blend_state(*net, **average, ema_keep(opt.ema, ++steps));
        loss_sum += loss.item<double>() * double(e - s);
        loss_n += e - s;
      }
      result.train_loss.push_back(loss_n ? loss_sum / double(loss_n) : std::nan(""));
      if (epoch % opt.val_every == 0 || epoch == opt.epochs) {
        // the validation materials, else the training ones (whose epoch loss is the plain weights' own)
        const auto& scored = score_val.empty() ? train : score_val;
        const double v = score_val.empty() && !average ? result.train_loss.back()
                         : opt.loss == Loss::l1        ? mean_l1(checked, scored, 128)
                                                       : relative_l1(checked, scored, 128, opt.loss);
        curve["epoch"].push_back(epoch);
        curve["train_loss"].push_back(result.train_loss.back());
        if (checked_key) curve[checked_key].push_back(v);
        if (v < best_val) {
          best_val = v;
          best_epoch = epoch;
          copy_state(checked, *best);
        }
      }
      progress.advance();
    }
    if (opt.epochs == 0) progress.advance();
    // A validation loss that never became finite (a diverging rate gives NaN at every check) keeps the initial
    // weights: random ones, or the transfer-learning start. Trained in name only, so refused.
    if (opt.epochs > 0 && best_epoch == 0)
      fail(
          fmt::format("training member {} (seed {}) never reached a finite {} loss in {} epochs: the initial "
                      "weights would be written as a trained model; lower the learning rate (--lr {:g})",
                      k, seed, score_val.empty() ? "training" : "validation", opt.epochs, opt.lr));
    best->eval();
    members.push_back(best);
    nlohmann::json log = {{"seed", seed}, {"best_epoch", best_epoch}};
    if (opt.epochs > 0) {
      // the loss that "loss" below names (l1, relative or mixed); older files have best_validation_l1,
      // best_train_l1 and final_train_l1 (nothing in rung reads them)
      log[score_val.empty() ? "best_train_loss" : "best_validation_loss"] = best_val;
      log["final_train_loss"] = result.train_loss.back();
      log["curve"] = thinned_curve(curve, best_epoch);
    }
    member_log.push_back(log);
  }
  progress.finish();

  info.ensemble_size = opt.ensemble;
  info.untrained = opt.epochs == 0 && !opt.init;
  info.training = {{"epochs", opt.epochs},
                   {"lr", opt.lr},
                   {"batch", opt.batch},
                   {"weight_decay", opt.weight_decay},
                   {"seed", opt.seed},
                   {"frozen", opt.freeze},
                   {"val_every", opt.val_every},
                   {"ema", opt.ema},
                   {"max_train", opt.max_train},
                   {"ipa_source", to_string(opt.ipa_source)},
                   {"optimizer", "Adam (coupled L2 weight decay)"},
                   {"loss", opt.loss == Loss::relative ? "relative L1 (mean over materials of 1 - SC)"
                            : opt.loss == Loss::mixed ? "mixed: (relative L1 + L1 over the batch's sum of |target|) / 2"
                                                      : "L1"},
                   {"precision", "float32"},
                   {"members", member_log},
                   // the file's name only (a path would be one machine's); the fingerprint says which file it was
                   {"init", opt.init ? opt.init->filename().string() : ""},
                   {"init_fingerprint", opt.init ? file_fingerprint(*opt.init) : ""},
                   {"split", opt.split_dir ? opt.split_dir->string() : ""},
                   {"filters", opt.filter.to_json()},
                   {"counts",
                    {{"train", train.size()},
                     {"validation", val.size()},
                     {"test", test.size()},
                     {"skipped", result.counts.skipped},
                     {"filtered", result.counts.filtered},
                     {"from_split_files", split.from_files}}}};
  if (!train.empty()) info.domain = training_domain(train);
  // Metrics of the network as it will be read back (half-precision weights), scored as rung reports it; the
  // float32 network's outputs on the validation materials are kept to show what the rounding changed.
  // (A model that learned lite spectra is scored against the full IPA spectra: score_val, score_test.)
  const auto raw_val = info.weights != "float32" && !score_val.empty() ? predict_ensemble(members, score_val)
                                                                       : std::vector<std::vector<float>>{};
  round_to_storage(members, info.weights);
  const auto processing = default_output_processing();
  if (opt.epochs > 0 || opt.init) {
    info.metrics = {{"test", set_metrics(members, score_test, opt.target, data.grid, processing)},
                    {"validation", set_metrics(members, score_val, opt.target, data.grid, processing)},
                    {"output_processing", processing.to_json()}};
  }
  save_model_file(output, info, members, [&](h5::File& f) {
    write_float32_outputs(f, raw_val.empty() ? std::vector<Example>{} : score_val, raw_val, info.arch.output_dim);
  });
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

Evaluation evaluate_model(const std::filesystem::path& model, const OptimateDataset& data,
                          const std::optional<std::filesystem::path>& split_dir, Subset subset,
                          const OutputProcessing& output) {
  // default thread count; installs the handler that drops the scatter_reduce beta note
  const HostThreadsGuard host_threads;
  ModelInfo info;
  const auto members = load_model_file(model, &info);
  if (info.target != Target::sc && !data.grid.same_as(info.grid, 1e-6))
    fail_input(model,
               fmt::format("model predicts {} points from {:g} to {:g} eV, the data set has {} from {:g} to {:g} eV",
                           info.grid.size(), info.grid.emin_eV, info.grid.emax_eV, data.grid.size(), data.grid.emin_eV,
                           data.grid.emax_eV));
  require_recorded_split(info, model, split_dir);
  auto sets = make_examples(data, info.target, assign_split(data, split_dir), filter_of(info));
  Evaluation e;
  e.per_material = nlohmann::json::array();
  e.metrics = set_metrics(members, sets.of(subset), info.target, data.grid, output, &e.per_material);
  e.metrics["subset"] = to_string(subset);
  if (info.target != Target::sc) e.metrics["output_processing"] = output.to_json();
  e.metrics["skipped"] = sets.counts.skipped;
  e.metrics["filtered"] = sets.counts.filtered;
  return e;
}

nlohmann::json conversion_change(const std::filesystem::path& model, const OptimateDataset& data);

ConversionResult convert_model(const std::filesystem::path& input, const std::filesystem::path& output,
                               const ConversionOptions& opt) {
  const HostThreadsGuard host_threads;
  if (opt.weights != "float16" && opt.weights != "float32") fail_usage("--weights must be float16 or float32");
  check_output_path(output);
  ConversionResult result;
  ModelInfo& info = result.info;
  auto members = load_model_file(input, &info);
  nlohmann::json record = {{"from_fingerprint", file_fingerprint(input)}, {"from_format_version", info.format_version},
                           {"from_weights", info.weights}, {"weights", opt.weights}, {"created", utc_now_iso8601()}};
  std::vector<Example> check;   // the validation materials scored (full IPA spectra): outputs before and after
  ExampleSets sets;             // the training's sets (its IPA source)
  ScoringSets scoring;          // what its metrics are scored on
  if (opt.data) {
    if (opt.data_fingerprint != info.training_dataset)
      fail_input(opt.data_name, fmt::format("is not the data set {} was trained on (fingerprint {}, the model records {})",
                                            input.string(), opt.data_fingerprint, info.training_dataset));
    if (opt.data->grid.size() != info.grid.size() && info.target != Target::sc)
      fail_input(opt.data_name, "has another energy grid than the model");
    require_recorded_split(info, input, opt.split_dir);
    // the training set as the model's training made it: its IPA source (lite spectra where a material has no
    // full one) and its --max-train subset, so that the rebuilt domain is the one the model saw; the metrics are
    // scored, as train_model and evaluate_model score them, against the full IPA spectra
    const IpaSource source = parse_ipa_source(info.training.value("ipa_source", std::string("full")));
    const Split split = assign_split(*opt.data, opt.split_dir);
    sets = make_examples(*opt.data, info.target, split, filter_of(info),
                         info.target == Target::ipa ? source : IpaSource::full);
    limit_training(sets, info.training.value("max_train", std::size_t{0}));
    if (sets.train.empty()) fail_input(opt.data_name, "holds none of the model's training materials");
    info.domain = training_domain(sets.train);
    scoring = scoring_sets(*opt.data, info.target, split, filter_of(info), source);
    record["metrics_before"] = info.metrics;
    record["split"] = opt.split_dir ? opt.split_dir->string() : "";
    check = scoring.of(sets).val;
  }
  const auto raw_before = check.empty() ? std::vector<std::vector<float>>{} : predict_ensemble(members, check);
  info.weights = opt.weights;
  round_to_storage(members, info.weights);
  if (opt.data) {
    const auto out = default_output_processing();
    const ExampleSets& scored = scoring.of(sets);
    info.metrics = {{"test", set_metrics(members, scored.test, info.target, opt.data->grid, out)},
                    {"validation", set_metrics(members, scored.val, info.target, opt.data->grid, out)},
                    {"output_processing", out.to_json()}};
  }
  info.training["conversion"] = record;
  save_model_file(output, info, members,
                  [&](h5::File& f) { write_float32_outputs(f, check, raw_before, info.arch.output_dim); });
  result.info = read_model_info(output);
  if (opt.data) result.change = conversion_change(output, *opt.data);
  return result;
}

nlohmann::json conversion_change(const std::filesystem::path& model, const OptimateDataset& data) {
  const HostThreadsGuard host_threads;
  std::vector<std::string> ids;
  std::vector<float> before;
  h5::Dims dims;
  {
    auto f = h5::File::open(model);
    if (!f.exists("/conversion")) return nlohmann::json::object();
    ids = f.read_strings("/conversion/ids");
    before = f.read_float("/conversion/float32_output", &dims);
  }
  ModelInfo info;
  const auto members = load_model_file(model, &info);
  if (dims.size() != 2 || dims[0] != ids.size() || std::int64_t(dims[1]) != info.arch.output_dim)
    fail_input(model, "/conversion/float32_output does not match /conversion/ids and the network's outputs");
  std::map<std::string, const DatasetMaterial*> by_id;
  for (const auto& m : data.materials) by_id[m.id] = &m;
  std::vector<graph::CrystalGraph> graphs;
  graphs.reserve(ids.size());
  std::vector<Example> set;
  for (const auto& id : ids) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) fail_input(model, "conversion material " + id + " is not in the data set given");
    graphs.push_back(graph::build_crystal_graph(it->second->structure, "data set material " + id));
    set.push_back(Example{&graphs.back(), target_of(*it->second, info.target), it->second});
  }
  const auto after = predict_ensemble(members, set);
  const std::size_t d = std::size_t(dims[1]);
  nlohmann::json j = {{"n", ids.size()}};
  if (info.target == Target::sc) {
    double worst = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) worst = std::max(worst, std::abs(double(after[i][0]) - before[i * d]));
    j["max_abs_sc_change"] = worst;
    return j;
  }
  const auto omega = info.grid.values_eV();
  const auto out = default_output_processing();
  double worst = 0, worst_label = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto a = process_spectrum(omega, std::vector<double>(after[i].begin(), after[i].end()), out);
    const auto b = process_spectrum(omega, std::vector<double>(before.begin() + long(i * d), before.begin() + long((i + 1) * d)), out);
    worst = std::max(worst, 1 - similarity_coefficient(omega, a, b));
    if (!set[i].target.empty()) {
      const std::vector<double> t(set[i].target.begin(), set[i].target.end());
      worst_label = std::max(worst_label, std::abs(spectral_distance(omega, a, t).sc - spectral_distance(omega, b, t).sc));
    }
  }
  j["max_spectrum_change"] = worst;
  j["max_label_sc_change"] = worst_label;
  return j;
}

double time_training_step(const std::vector<const graph::CrystalGraph*>& graphs, const Architecture& arch, int batch,
                          int steps) {
  if (graphs.size() < std::size_t(batch) || batch < 2) fail("time_training_step: not enough graphs");
  const HostThreadsGuard host_threads;
  const DefaultGeneratorGuard host_generator;  // the seed below is the benchmark's, not the host's
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

}  // namespace torch_impl
}  // namespace rung::ml
