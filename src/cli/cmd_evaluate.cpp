// `rung evaluate --model MODEL.h5 --data DATA.h5 [--split DIR] [--subset test] [--json FILE] [--per-material FILE]`:
// a trained model against the labels of one subset of a data set, with the split rule and data filters
// the model was trained with. This is how doc/models.md's table is made and how the shipped models'
// stored metrics are checked.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"

#ifdef RUNG_HAVE_TORCH
#include "ml/dataset_file.hpp"
#include "ml/trainer.hpp"
#endif

#include <cstdio>
#include <fmt/format.h>
#include <set>
#include <memory>
#include <string>

namespace rung::cli {
namespace cmd_evaluate {  // this command's own names, distinct when the commands are compiled in one batch

struct EvaluateOptions {
  std::string model, data, split, subset = "test", json_out, per_material;
  bool raw = false;
};

#ifdef RUNG_HAVE_TORCH
std::string number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? fmt::format("{:.4f}", j[key].get<double>()) : "-";
}

int run_evaluate(const EvaluateOptions& o) {
  for (const auto* f : {&o.json_out, &o.per_material})
    if (!f->empty()) check_output_path(*f);
  const auto data = read_optimate_dataset(o.data);
  const auto subset = ml::parse_subset(o.subset);
  std::optional<std::filesystem::path> split;
  if (!o.split.empty()) split = o.split;
  const auto e = ml::evaluate_model(o.model, data, split, subset,
                                    o.raw ? ml::OutputProcessing::raw() : ml::default_output_processing());
  const auto& m = e.metrics;
  std::string text = fmt::format("{} on the {} subset of {}: {} materials ({} without the label, {} filtered out)\n",
                                 o.model, o.subset, o.data, m.value("n", 0), m.value("skipped", 0), m.value("filtered", 0));
  if (m.contains("median_abs_sc_error")) {
    text += fmt::format("|predicted - true SC|: mean {}, median {}\n", number(m, "mean_abs_sc_error"),
                        number(m, "median_abs_sc_error"));
  } else if (m.value("n", 0) > 0) {
    text += fmt::format("model:      median SC {}  mean SC {}  median MSE {}  median MAE {}\n", number(m, "median_sc"),
                        number(m, "mean_sc"), number(m, "median_mse"), number(m, "median_mae"));
    if (m.contains("ipa_as_rpa")) {
      const auto& b = m["ipa_as_rpa"];
      text += fmt::format("IPA as RPA: median SC {}  mean SC {}  median MSE {}  median MAE {}\n", number(b, "median_sc"),
                          number(b, "mean_sc"), number(b, "median_mse"), number(b, "median_mae"));
    }
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!o.json_out.empty()) {
    nlohmann::json j = {{"model", o.model},
                        {"model_fingerprint", file_fingerprint(o.model)},
                        {"data", o.data},
                        {"data_fingerprint", file_fingerprint(o.data)},
                        {"split", o.split},
                        {"metrics", m},
                        {"materials", e.per_material},
                        {"provenance", output_provenance()}};
    write_text_atomically(o.json_out, j.dump(1) + "\n");
  }
  if (!o.per_material.empty()) {
    // the columns: every key any material has (an RPA model's ipa_as_rpa_* exist only where the material has an
    // IPA spectrum), each row written by column, "nan" where a material lacks one
    std::set<std::string> columns;
    for (const auto& r : e.per_material)
      for (const auto& [k, v] : r.items())
        if (k != "id" && k != "formula") columns.insert(k);
    // '#' lines first: what the numbers are of (the readers take the '# id' line as the header, skip the others)
    const auto made = output_provenance();
    std::string command;
    for (const auto& a : made["command"]) command += (command.empty() ? "" : " ") + a.get<std::string>();
    std::string tsv = fmt::format(
        "# rung evaluate --per-material: rung {}, created {}\n# command: {}\n# model: {} (fingerprint {})\n"
        "# data: {} (fingerprint {})\n# split: {}, subset: {}{}\n",
        made["rung_version"].get<std::string>(), made["created"].get<std::string>(), command, o.model,
        file_fingerprint(o.model), o.data, file_fingerprint(o.data), o.split.empty() ? "(by formula hash)" : o.split,
        o.subset, o.raw ? ", raw network output" : "");
    tsv += "# id\tformula";
    for (const auto& k : columns) tsv += "\t" + k;
    tsv += "\n";
    for (const auto& r : e.per_material) {
      tsv += r["id"].get<std::string>() + "\t" + r["formula"].get<std::string>();
      for (const auto& k : columns)
        tsv += r.contains(k) ? fmt::format("\t{:.6g}", r[k].get<double>()) : std::string("\tnan");
      tsv += "\n";
    }
    write_text_atomically(o.per_material, tsv);
  }
  return 0;
}
#endif

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<EvaluateOptions>();
  auto* cmd = app.add_subcommand("evaluate", "Evaluate a trained model on one subset of a data set (SC, MSE, MAE)");
  cmd->add_option("--model", o->model, "Model file (rung train output)")->required();
  cmd->add_option("--data", o->data, "Data set file (format rung-optimate-dataset)")->required();
  cmd->add_option("--split", o->split, "Folder with train_set.txt, validation_set.txt, test_set.txt (as in training)");
  cmd->add_option("--subset", o->subset, "train | validation | test")->capture_default_str();
  cmd->add_option("--json", o->json_out, "Write metrics and per-material scores as JSON");
  cmd->add_flag("--raw", o->raw, "Score the network's raw output (not clipped at zero and smoothed as rung reports it)");
  cmd->add_option("--per-material", o->per_material, "Write per-material scores as a table (TSV)");
  cmd->callback([o, &action] { action = RUNG_TORCH_ACTION("evaluate", run_evaluate(*o)); });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_evaluate
}  // namespace rung::cli
