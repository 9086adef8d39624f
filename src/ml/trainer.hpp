#pragma once
// Training of the OPTIMATE model (doc/ml-model.md): L1 loss over all outputs (or relative to each spectrum, --loss), Adam with coupled weight decay
// (torch.optim.Adam, not AdamW), validation every N epochs keeping the best weights, deterministic
// given the seed, transfer learning from an existing model (all layers fine-tuned), ensembles of K
// seeds. Torch-free header.
#include "ml/dataset_file.hpp"
#include "ml/graph.hpp"
#include "ml/model_file.hpp"
#include "ml/spectrum_output.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace rung::ml {

// The paper's filters before graph building (doc/ml-model.md), applied to every subset alike.
struct DataFilter {
  double min_gap_eV = 0.5;         // drop materials whose (indirect) gap is smaller
  double max_direct_gap_eV = 10;   // drop materials whose direct gap is larger (provenance "direct_gap_eV")
  nlohmann::json to_json() const { return {{"min_gap_eV", min_gap_eV}, {"max_direct_gap_eV", max_direct_gap_eV}}; }
};

// Which IPA spectra an ipa-target model learns (pretraining on the cheap tier, doc/dataset.md): the full tier's
// (the default), the IPA-lite tier's, or any (full where a material has it, else lite).
enum class IpaSource { full, lite, any };
IpaSource parse_ipa_source(const std::string& name);  // "full" | "lite" | "any", else a usage error
std::string to_string(IpaSource);

// What a spectra model minimises: the paper's L1 over every output value (materials with a large Im eps weigh
// more), or the L1 of each material relative to its own spectrum, Σ|p − t| / Σ|t|, averaged over the materials
// (every material weighs the same, as in the median SC that rung reports). On the uniform grid this is 1 − SC of
// core/metrics.hpp up to the trapezoid's end-point halves; plain sums keep the training tensor expression and the
// validation measure below the same number. The best weights are kept by that measure on the validation
// materials. Or half of each ("mixed"): the relative loss plus the L1 over all values divided by the whole
// target's Σ|t| (of a batch in training, of the set in validation), so that both halves are dimensionless
// fractions of the same size and a strong absorber weighs between 1 and its share of Σ|t|. The sc target always
// learns by L1.
enum class Loss { l1, relative, mixed };
Loss parse_loss(const std::string& name);  // "l1" | "relative" | "mixed", else a usage error
std::string to_string(Loss);
// The relative loss of a set: the mean over rows of Σ_j |pred_ij − target_ij| / Σ_j |target_ij| (a row whose
// target is all zero counts with denominator 1e-12, i.e. it must be predicted zero as well).
double mean_relative_l1(const std::vector<std::vector<float>>& pred, const std::vector<std::vector<float>>& target);
// The mixed loss of a set: (mean_relative_l1 + Σ_ij |pred_ij − target_ij| / Σ_ij |target_ij|) / 2.
double mixed_relative_l1(const std::vector<std::vector<float>>& pred, const std::vector<std::vector<float>>& target);

// The batches of one training epoch over n shuffled materials, as [begin, end) ranges of the shuffled order:
// consecutive runs of `batch`, except that a remainder of less than a quarter of a batch (or a single material)
// joins the batch before it (the head's BatchNorm normalises graph-level features over the batch: a step on a few
// graphs' statistics, 2 of 382 at batch 20, kept a from-scratch model from converging; doc/models.md, "Batches of
// a few graphs"), so every material is in a batch of at least 2 graphs (a training set of one material gives no
// batch: BatchNorm cannot train on one graph).
std::vector<std::pair<std::size_t, std::size_t>> epoch_batches(std::size_t n, std::size_t batch);

struct TrainOptions {
  Target target = Target::ipa;
  std::optional<std::filesystem::path> init;       // transfer learning: start from this model file
  // An --init model trained on another data set (its training_dataset fingerprint) is refused unless this is set:
  // its training materials may be this run's validation or test ones.
  bool allow_foreign_init = false;
  std::optional<std::filesystem::path> split_dir;  // {train,validation,test}_set.txt (the paper's split)
  int epochs = 200;
  double lr = 2e-3;
  int batch = 128;
  double weight_decay = 1e-4;
  std::uint64_t seed = 0;
  std::string arch;          // preset name or JSON; empty = "ipa" ("sc" for the sc target)
  int val_every = 20;        // validation (and best-model keeping) every N epochs and at the end
  // An exponential moving average of the weights (0: none), bias-corrected (ema_keep, optimate_net.hpp): the steps'
  // weights weighted by ema^age, BatchNorm statistics likewise; the checks then score, and keep, the average
  // instead of the weights
  double ema = 0;
  int ensemble = 1;          // K members trained with seeds seed, seed+1, ...
  int threads = 1;           // LibTorch/OpenBLAS threads, when the runtime manages threads (core/runtime.hpp);
                             // for the run only (the process's counts are put back at its end)
  // Learning curves: train on at most this many of the training materials (0: all). The subset is the
  // first N in an order fixed by the materials' ids (FNV-1a hash), so that it does not depend on the seed,
  // the target or the model, and a smaller subset lies inside a larger one.
  std::size_t max_train = 0;
  // The IPA spectra an ipa-target model learns; the best weights are kept by the validation loss against the full
  // IPA spectra, and the stored validation and test metrics are computed against them too (materials without a
  // full IPA spectrum are not scored).
  IpaSource ipa_source = IpaSource::full;
  Loss loss = Loss::l1;
  // Parts of the network kept as --init gave them (transfer learning with a frozen body): any of "node" (the
  // node MLP), "gat" (every GATv2 layer), "pool" (the attention pooling's MLP); the output MLP always trains.
  // Frozen parts get no gradient step and no weight decay, and their BatchNorm statistics stay fixed.
  std::vector<std::string> freeze;
  bool progress = true;
  DataFilter filter;
};

struct SplitCounts {
  std::size_t train = 0, validation = 0, test = 0, skipped = 0;  // skipped: no target value
  std::size_t filtered = 0;  // dropped by DataFilter (gap outside the paper's range)
  std::size_t from_split_files = 0;  // materials whose set came from split_dir (others: by formula hash)
};

struct TrainResult {
  ModelInfo info;          // as written to the output file
  SplitCounts counts;
  std::vector<double> train_loss;  // epoch-mean training loss (TrainOptions::loss) of the last member
  double seconds = 0;
};

// Trains on `data` (fingerprint = identity of the data set file, stored in the model) and writes the
// model file `output` atomically. With epochs == 0 and no --init, the file holds freshly initialised
// weights (marked untrained); `data` may then be empty.
TrainResult train_model(const OptimateDataset& data, const std::string& fingerprint, const TrainOptions& options,
                        const std::filesystem::path& output);

// Which set a material belongs to: the split files when they list it, else the set of the listed materials of
// its reduced formula (the most protective where they differ: test, then validation, then train), else a
// deterministic hash of its reduced formula (80/10/10, split by formula as the paper does).
enum class Subset { train, validation, test };
struct Split {
  std::vector<Subset> subset;  // per material of the data set
  std::size_t from_files = 0;
};
Split assign_split(const OptimateDataset& data, const std::optional<std::filesystem::path>& split_dir);
// The ids of a split list (train_set.txt, ...): one per line, blank lines skipped, surrounding blanks trimmed;
// fail_input naming the file when it cannot be opened.
std::set<std::string> read_id_list(const std::filesystem::path& file);

Subset parse_subset(const std::string& name);  // "train" | "validation" | "test"
std::string to_string(Subset);

// A model file evaluated on one subset of a data set: ensemble-mean predictions against the stored labels, with
// the training's data filters (from the model's metadata) and the split rule on the lists in `split_dir`. A model
// trained on split lists records their folder (training.split) and is refused without `split_dir` (a usage error
// naming that folder): the formula hash alone would put some of its training materials into "test". The folder
// given is used as it is (it is not compared with the recorded one). Spectra: median SC, MSE, MAE (paper §6, the
// true spectrum as reference; an ipa model against the full IPA spectra, whatever it learned) and, for the rpa
// target, the IPA-as-RPA baseline on the same materials; sc: mean and median |predicted - true SC|.
// `per_material` lists each material.
struct Evaluation {
  nlohmann::json metrics;       // as stored under "test"/"validation" in a model file
  nlohmann::json per_material;  // [{id, formula, sc, mse, mae[, ipa_as_rpa_sc, ipa_as_rpa_mse] | predicted, true}]
};
// Spectra are scored as rung reports them (`output`: non-negative and smoothed by default; raw() for the
// network's own output).
Evaluation evaluate_model(const std::filesystem::path& model, const OptimateDataset& data,
                          const std::optional<std::filesystem::path>& split_dir, Subset subset,
                          const OutputProcessing& output = default_output_processing());

// `rung convert-model`: rewrites a model file in the current format with the weights stored as
// `weights` (float16: half the size). With the training data set (its fingerprint must be the one the
// model records) it also stores the training domain (elements, largest cell of the training split, as the
// training made it: its IPA source and --max-train), re-evaluates the stored test and validation metrics with
// the converted weights as evaluate_model scores them (full IPA spectra; the previous ones are kept under
// training.conversion.metrics_before), and keeps the float32 network's raw outputs on the validation materials
// scored in /conversion, so that what the conversion changed can be checked at any time. Like evaluate_model,
// it needs `split_dir` with the data set when the model was trained on split lists.
struct ConversionOptions {
  std::string weights = default_weight_storage;
  const OptimateDataset* data = nullptr;  // optional: the training data set
  std::string data_fingerprint;           // file_fingerprint of its file
  std::string data_name;                  // its path, for messages
  std::optional<std::filesystem::path> split_dir;
};
struct ConversionResult {
  ModelInfo info;         // as written
  nlohmann::json change;  // conversion_change() of the written file (empty without a data set)
};
ConversionResult convert_model(const std::filesystem::path& input, const std::filesystem::path& output,
                               const ConversionOptions& options);

// What a conversion changed: the file's network against the float32 outputs stored in its /conversion
// group, on those materials (looked up by id in `data`). sc model: {"n", "max_abs_sc_change"}; spectra,
// both processed as rung reports them: {"n", "max_spectrum_change" = max of 1 - SC(converted; float32),
// "max_label_sc_change" = max of |SC(converted; label) - SC(float32; label)|}. Empty JSON when the file
// has no /conversion group.
nlohmann::json conversion_change(const std::filesystem::path& model, const OptimateDataset& data);

// Time per optimiser step (seconds) on batches of `batch` graphs with synthetic spectral targets:
// for the benchmark (`rung bench ml`).
double time_training_step(const std::vector<const graph::CrystalGraph*>& graphs, const Architecture& arch,
                          int batch, int steps);

}  // namespace rung::ml
