// `rung calibrate --data DATA.h5 [--split DIR] [--model DIR | --no-model] -o calibration.json`: fits the
// probe correction of `rung select` on a data set's converged labels (training materials), calibrates
// the intervals of the probe and of the structure-only model on the validation materials (split
// conformal), and reports both on validation and test: mean |ΔSC|, the intervals' coverage, the
// decisions at each threshold. See doc/selection.md, "What `rung select` decides".
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/timestamp.hpp"
#include "core/version.hpp"
#include "ml/dataset_file.hpp"
#include "ml/model_file.hpp"
#include "ml/trainer.hpp"
#include "select/calibration_fit.hpp"
#include "select/predictor.hpp"
#include "select/report_plot.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <sstream>

namespace rung::cli {
namespace cmd_calibrate {  // this command's own names, distinct when the commands are compiled in one batch

namespace fs = std::filesystem;

struct CalibrateCli {
  std::string data, split, model, output, rows, model_rows, cv_folds;
  std::vector<std::string> plots;
  bool no_model = false;
  std::size_t probe_g = 59;
  std::size_t second_g = 0;
  double coverage = 0.9;
  std::vector<double> thresholds{0.8, 0.85, 0.9};
  std::string command_line;
};

int run_calibrate(const CalibrateCli& o) {
  // every output before the fit: none is written unless all can be
  check_output_path(o.output);
  for (const auto* f : {&o.rows, &o.model_rows})
    if (!f->empty()) check_output_path(*f);
  for (const auto& f : o.plots) select::check_figure_path(f);
  const auto data = read_optimate_dataset(o.data);
  select::CalibrationOptions co;
  co.probe_g = o.probe_g;
  co.second_g = o.second_g;
  co.coverage = o.coverage;
  co.thresholds = o.thresholds;
  if (!o.split.empty()) co.split_dir = o.split;
  std::unique_ptr<select::Predictor> model;
  if (!o.no_model) {
    // without the lists the model was trained with, "validation" would be a hash split that overlaps its training
    if (o.split.empty())
      fail_usage(
          "the model's interval is calibrated on its validation materials: give --split (the lists it was "
          "trained with), or --no-model");
    if (!select::have_model_predictor()) fail_usage(std::string(select::no_torch_message) + "; use --no-model");
    model = select::load_model_predictor(o.model);
  }
  // cross-validation folds (tools/cv_folds.sh): DIR/fold_*/ each a model set, its split and held_out.txt
  std::vector<std::unique_ptr<select::Predictor>> fold_models;
  std::vector<select::CvFold> folds;
  if (!o.cv_folds.empty()) {
    if (!model) fail_usage("--cv-folds calibrates the structure-only model's interval; drop --no-model");
    std::vector<fs::path> dirs;
    if (!fs::is_directory(o.cv_folds)) fail_input(o.cv_folds, "is not a folder (expected fold_0, fold_1, ... inside)");
    for (const auto& e : fs::directory_iterator(o.cv_folds))
      if (e.is_directory() && e.path().filename().string().rfind("fold_", 0) == 0) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    if (dirs.size() < 2) fail_input(o.cv_folds, "holds fewer than two fold_* folders");
    for (const auto& d : dirs) {
      const fs::path held = d / "held_out.txt";  // the training materials the fold holds out
      // folds of cv_folds.sh before 2026-12-05 held out split/test_set.txt and named no other material in their
      // lists: the split's test materials, unlisted, joined their training by formula hash
      if (!fs::exists(held))
        fail_input(d,
                   "has no held_out.txt: folds of an older tools/cv_folds.sh, whose models trained on the split's "
                   "test materials; make them again");
      // the fold's model must be one trained on this fold's own lists and this data set: another model (the shipped
      // sc.h5 copied in, a fold of another data set) has trained on what the fold holds out
      {
        const fs::path sc = d / "sc.h5";
        if (!fs::exists(sc)) fail_input(d, "has no sc.h5 (the fold's SC model)");
        const auto info = ml::read_model_info(sc);
        const std::string split = info.training.value("split", std::string());
        const fs::path recorded = fs::path(split).lexically_normal();
        const bool own =
            !split.empty() && recorded.filename() == "split" && recorded.parent_path().filename() == d.filename();
        if (!own)
          fail_input(sc, fmt::format("was trained on the split '{}', not this fold's own lists ({}/split): not a "
                                     "model of tools/cv_folds.sh for this fold",
                                     split.empty() ? "(none: by formula hash)" : split, d.filename().string()));
        if (info.training_dataset != file_fingerprint(o.data))
          fail_input(sc, fmt::format("was trained on another data set (fingerprint {}) than {} ({})",
                                     info.training_dataset, o.data, file_fingerprint(o.data)));
      }
      select::CvFold f;
      const auto ids = ml::read_id_list(held);
      f.held_out.assign(ids.begin(), ids.end());
      fold_models.push_back(select::load_model_predictor(d.string()));
      f.model = fold_models.back().get();
      f.name = held.string();
      folds.push_back(std::move(f));
    }
  }
  auto fit = [&] {
    try {
      return select::fit_calibration(data, co, model.get(), folds);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::runtime || !e.file().empty()) throw;
      fail_input(o.data, e.what());  // a label's history that cannot be read: name the data set it came from
    }
  }();
  auto& rep = fit.calibration.report;
  rep["data"] = o.data;
  rep["data_fingerprint"] = file_fingerprint(o.data);
  rep["split"] = o.split;
  if (!o.cv_folds.empty()) rep["cv_folds"] = o.cv_folds;
  if (model) {
    // the model as the command named it (no machine's absolute paths), and its identity
    auto m = model->info().to_json();
    m["path"] = o.model.empty() ? "share/models" : o.model;
    if (m.contains("metadata"))
      for (auto& [target, meta] : m["metadata"].items())
        if (meta.is_object()) meta.erase("file");
    m["identity"] = model->info().identity();
    rep["model"] = m;
  }
  rep["rung_version"] = version_string;
  rep["created"] = utc_now_iso8601();
  rep["command_line"] = o.command_line;
  const std::string table = select::calibration_table(fit.calibration);
  std::fwrite(table.data(), 1, table.size(), stdout);
  write_text_atomically(o.output, fit.calibration.to_json().dump(1) + "\n");
  if (!o.rows.empty()) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : fit.rows) {
      nlohmann::json j{{"id", r.id},         {"formula", r.formula},     {"subset", r.subset},
                       {"label", r.label},   {"sc_probe", r.sc_probe},   {"probe_n_g", r.probe_n_g},
                       {"label_n_g", r.label_n_g}, {"probe_sc", r.probe_sc}};
      if (r.model_sc) j["model_sc"] = *r.model_sc;
      if (o.second_g > 0) j["sc_second"] = r.sc_second, j["second_n_g"] = r.second_n_g;
      nlohmann::json h = nlohmann::json::array();  // the label's G-block history: [n_g, SC] ascending
      for (const auto& [n_g, sc] : r.blocks) h.push_back({n_g, sc});
      j["history"] = h;
      rows.push_back(j);
    }
    write_text_atomically(o.rows, rows.dump(1) + "\n");
  }
  if (!o.model_rows.empty()) {
    // the structure-only model's residuals: every labelled material, its prediction (validation and test) or
    // the prediction of the fold that did not see it (training materials, --cv-folds)
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : fit.model_rows) {
      nlohmann::json j{{"id", r.id}, {"formula", r.formula}, {"subset", r.subset}, {"label", r.label}};
      if (r.model_sc) j["model_sc"] = *r.model_sc;
      if (r.cv_sc) j["cv_sc"] = *r.cv_sc;
      rows.push_back(j);
    }
    write_text_atomically(o.model_rows, rows.dump(1) + "\n");
  }
  if (!o.plots.empty()) {
    // the validation and test materials: each evidence's prediction with its interval against the label
    select::DecisionFigure fig;
    fig.threshold = o.thresholds.empty() ? 0.9 : o.thresholds.back();
    fig.title = "validation + test";
    const auto& pc = *fit.calibration.probe;
    for (const auto& r : fit.rows) {
      if (r.subset == "train") continue;
      fig.points.push_back({r.formula, "qe-probe", r.probe_sc, r.probe_sc - pc.half_width,
                            std::min(1.0, r.probe_sc + pc.half_width), r.label});
    }
    for (const auto& r : fit.model_rows) {  // every labelled material, probe block or not
      if (r.subset == "train" || !r.model_sc || !fit.calibration.model) continue;
      const double h = fit.calibration.model->half_width;
      fig.points.push_back({r.formula, "model", *r.model_sc, *r.model_sc - h, std::min(1.0, *r.model_sc + h), r.label});
    }
    for (const auto& f : o.plots) select::plot_decisions(fig, f);
  }
  std::fprintf(stdout, "wrote %s\n", o.output.c_str());
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<CalibrateCli>();
  auto* cmd = app.add_subcommand("calibrate", "Fit the QE-probe correction and the SC intervals of `rung select` on a data set");
  cmd->add_option("--data", o->data, "Data set with converged RPA labels (rung dataset run)")->required();
  cmd->add_option("--split", o->split, "Folder with train_set.txt, validation_set.txt, test_set.txt");
  auto* model_opt = cmd->add_option("--model", o->model,
                                    "Structure-only model folder or file to calibrate too; default share/models");
  cmd->add_flag("--no-model", o->no_model, "Calibrate the probe only")->excludes(model_opt);
  cmd->add_option("--probe-g", o->probe_g, "The probe's G block (rounded up to a closed shell)")->capture_default_str();
  cmd->add_option("--second-g", o->second_g,
                  "Fit the movement term 1 - SC += gamma (SC_sub - SC_probe) from the probe's sub-block of this many G "
                  "(e.g. 27); 0: without it")
      ->capture_default_str();
  cmd->add_option("--coverage", o->coverage, "Nominal coverage of the intervals")->capture_default_str();
  cmd->add_option("--thresholds", o->thresholds, "SC thresholds of the decision table")->delimiter(',');
  cmd->add_option("-o,--output", o->output, "Calibration file to write (JSON)")->required();
  cmd->add_option("--rows", o->rows, "Also write the per-material rows of the probe (JSON)");
  cmd->add_option("--model-rows", o->model_rows,
                  "Also write the per-material rows of the structure-only model: label, prediction, fold prediction "
                  "(JSON)");
  cmd->add_option("--cv-folds", o->cv_folds,
                  "Folder of cross-validation folds of the model (tools/cv_folds.sh): its interval is calibrated on "
                  "the held-out training materials too");
  cmd->add_option("--plot", o->plots, "Figure of predicted against computed SC with intervals (.png or .svg; repeatable)");
  cmd->callback([o, &action] {
    o->command_line = "rung calibrate --data " + o->data + (o->split.empty() ? "" : " --split " + o->split) +
                      (o->no_model ? " --no-model" : (o->model.empty() ? "" : " --model " + o->model)) +
                      fmt::format(" --probe-g {} --second-g {} --coverage {}", o->probe_g, o->second_g, o->coverage) +
                      (o->cv_folds.empty() ? "" : " --cv-folds " + o->cv_folds);
    action = [o] { return run_calibrate(*o); };
  });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_calibrate
}  // namespace rung::cli
