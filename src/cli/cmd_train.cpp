// `rung train --data DATA.h5 --target ipa|rpa|sc [--init MODEL.h5] [--split DIR] [--epochs --lr --batch
// --weight-decay --seed] [--arch JSON-or-name] [--ensemble K] [--loss l1|relative|mixed] -o MODEL.h5`: trains the OPTIMATE model
// (doc/ml-model.md). `--epochs 0` without --data writes a model with freshly initialised weights.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"

#ifdef RUNG_HAVE_TORCH
#include "ml/dataset_file.hpp"
#include "ml/trainer.hpp"
#endif

#include <cstdio>
#include <fmt/format.h>
#include <string>

namespace rung::cli {
namespace cmd_train {  // this command's own names, distinct when the commands are compiled in one batch

struct TrainCliOptions {
  std::string data, target, init, split, arch, output;
  std::vector<std::string> freeze;
  int epochs = 200, batch = 128, val_every = 20, ensemble = 1, threads = 1;
  std::size_t max_train = 0;
  std::string ipa_source = "full";
  std::string loss = "l1";
  double lr = 2e-3, weight_decay = 1e-4, ema = 0;
  double min_gap = 0.5, max_direct_gap = 10;
  std::uint64_t seed = 0;
  bool quiet = false, allow_foreign_init = false;
};

#ifdef RUNG_HAVE_TORCH
int run_train(const TrainCliOptions& o) {
  check_output_path(o.output);  // before hours of training, not after
  ml::TrainOptions t;
  t.target = ml::parse_target(o.target);
  if (!o.init.empty()) t.init = o.init;
  t.allow_foreign_init = o.allow_foreign_init;
  if (!o.split.empty()) t.split_dir = o.split;
  t.epochs = o.epochs;
  t.lr = o.lr;
  t.batch = o.batch;
  t.weight_decay = o.weight_decay;
  t.freeze = o.freeze;
  t.seed = o.seed;
  t.arch = o.arch;
  t.val_every = o.val_every;
  t.ema = o.ema;
  t.ensemble = o.ensemble;
  t.threads = o.threads;
  t.max_train = o.max_train;
  t.ipa_source = ml::parse_ipa_source(o.ipa_source);
  t.loss = ml::parse_loss(o.loss);
  t.progress = !o.quiet;
  t.filter.min_gap_eV = o.min_gap;
  t.filter.max_direct_gap_eV = o.max_direct_gap;
  OptimateDataset data;
  std::string fingerprint = "none";
  if (!o.data.empty()) {
    data = read_optimate_dataset(o.data);
    fingerprint = file_fingerprint(o.data);
  } else if (o.epochs > 0) {
    fail_usage("rung train needs --data DATA.h5 (only --epochs 0 writes an untrained model without data)");
  }
  const auto r = ml::train_model(data, fingerprint, t, o.output);
  std::string text;
  if (r.info.untrained) {
    text = fmt::format("wrote an untrained {} model ({} parameters, ensemble {}, architecture {}) to {}\n"
                       "note: --epochs 0: random weights, for the machinery only\n",
                       ml::to_string(t.target), r.info.arch.parameter_count(), r.info.ensemble_size,
                       r.info.arch.to_json().dump(), o.output);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  text = fmt::format(
      "trained {} model ({} parameters, ensemble {}) in {:.1f} s: {} train / {} validation / {} test materials "
      "({} from the split files, {} skipped without a {} target, {} filtered out by gap)\n",
      ml::to_string(t.target), r.info.arch.parameter_count(), r.info.ensemble_size, r.seconds, r.counts.train,
      r.counts.validation, r.counts.test, r.counts.from_split_files, r.counts.skipped, ml::to_string(t.target),
      r.counts.filtered);
  if (!r.train_loss.empty())
    text += fmt::format("final training loss ({}) {:.5g}\n", ml::to_string(t.loss), r.train_loss.back());
  if (!r.info.metrics.empty()) text += fmt::format("metrics: {}\n", r.info.metrics.dump());
  text += fmt::format("wrote {}\n", o.output);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
#endif

void setup(CLI::App& app, Action& action, const Context& ctx) {
  auto o = std::make_shared<TrainCliOptions>();
  auto* cmd = app.add_subcommand("train", "Train the OPTIMATE model on a rung data set (DATA.h5)");
  cmd->add_option("--data", o->data, "Data set file (format rung-optimate-dataset)");
  cmd->add_option("--target", o->target, "ipa | rpa | sc")->required();
  cmd->add_option("--init", o->init, "Start from this model file (transfer learning; every part trains unless frozen)");
  cmd->add_flag("--allow-foreign-init", o->allow_foreign_init,
                "Start from an --init model trained on another data set (refused otherwise: its training materials "
                "may be this split's validation or test materials)");
  cmd->add_option("--freeze", o->freeze,
                  "Keep these parts as --init gave them: node (node MLP), gat (GATv2 layers), pool (attention "
                  "pooling); comma-separated")
      ->delimiter(',');
  cmd->add_option("--split", o->split, "Folder with train_set.txt, validation_set.txt, test_set.txt");
  cmd->add_option("--epochs", o->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--lr", o->lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Graphs per training batch")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Adam (coupled L2) weight decay")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed (initialisation, shuffling)")->capture_default_str();
  cmd->add_option("--arch", o->arch, "Architecture: ipa, sc, dl100, dl300, dl1000, dl3000, dl4610 or JSON");
  cmd->add_option("--val-every", o->val_every, "Validate (and keep the best weights) every N epochs")->capture_default_str();
  cmd->add_option("--ema", o->ema,
                  "Keep an exponential moving average of the weights over the steps (weight EMA^age, bias-corrected: "
                  "the starting weights do not count), and score and keep the average at each check (0: none; e.g. "
                  "0.99 averages over about 100 steps)")
      ->capture_default_str();
  cmd->add_option("--ensemble", o->ensemble, "Train K members with seeds seed..seed+K-1")->capture_default_str();
  cmd->add_option("--min-gap", o->min_gap, "Drop materials with a smaller gap, eV (the paper: 0.5)")->capture_default_str();
  cmd->add_option("--max-direct-gap", o->max_direct_gap, "Drop materials with a larger direct gap, eV (the paper: 10)")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "LibTorch threads")->capture_default_str();
  cmd->add_option("--max-train", o->max_train,
                  "Train on at most N training materials (learning curves; a fixed subset by id, nested in larger N; "
                  "0: all)")
      ->capture_default_str();
  cmd->add_option("--ipa-source", o->ipa_source,
                  "IPA spectra an ipa model learns: full, lite (the IPA-lite tier) or any (full, else lite)")
      ->capture_default_str();
  cmd->add_option("--loss", o->loss,
                  "Spectra: l1 (the paper's, over every value) or relative (each material's L1 over its own "
                  "spectrum's, i.e. 1 - SC; the best weights kept by the same on validation) or mixed (half "
                  "relative, half the L1 over all values divided by the targets' total)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Model file to write")->required();
  cmd->callback([o, &action, &ctx] {
    o->quiet = ctx.quiet;
    action = RUNG_TORCH_ACTION("train", run_train(*o));
  });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_train
}  // namespace rung::cli
