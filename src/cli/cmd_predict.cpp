// `rung predict STRUCTURE|FOLDER... [--model FILE] [--target ipa|rpa|sc] [--json] [-o OUT.h5]`: the OPTIMATE
// prediction of the Im eps trace (or of SC(IPA, RPA)) for many structures in one process, batched.
// Output file layout (format "rung-prediction" v1) in doc/ml-model.md.
#include "cli/commands.hpp"
#include "cli/request_flags.hpp"
#include "core/timestamp.hpp"
#include "core/error.hpp"
#include "ml/predict_request.hpp"

#ifdef RUNG_HAVE_TORCH
#include "core/atomic_output.hpp"
#include "core/optical_constants.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"
#include "io/structures/reader.hpp"
#include "ml/predictor.hpp"
#include "ml/spectrum_output.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#endif

#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <vector>

namespace rung::cli {
namespace cmd_predict {  // this command's own names, distinct when the commands are compiled in one batch

struct PredictOptions {
  std::vector<std::string> structures;
  ml::PredictRequest request;  // every predictor option, bound to its flag by PredictRequest::visit
  std::string output;
  bool json = false;
};

#ifdef RUNG_HAVE_TORCH
// Rows of [n, m] datasets, kept in the precision they are written in (float32 unless --precision float64).
template <class T>
void write_optics_rows(h5::File& f, const std::vector<double>& energy, const std::vector<ml::ModelOutput>& pred) {
  const std::uint64_t n = pred.size(), m = energy.size();
  const auto& names = optical_constant_names();
  std::vector<T> re;
  std::vector<std::vector<T>> oc(names.size());
  re.reserve(n * m);
  for (auto& v : oc) v.reserve(n * m);
  for (const auto& q : pred) {
    const auto o = ml::predicted_optics(energy, q.spectrum);
    re.insert(re.end(), o.eps_real.begin(), o.eps_real.end());
    for (std::size_t c = 0; c < names.size(); ++c) {
      const auto& v = optical_constant(o.optical, names[c].name);
      oc[c].insert(oc[c].end(), v.begin(), v.end());
    }
  }
  f.write("/eps_real", re, {n, m}, true);
  f.create_group("/optical");
  for (std::size_t c = 0; c < names.size(); ++c) {
    const std::string name = std::string("/optical/") + names[c].name;
    f.write(name, oc[c], {n, m}, true);
    if (*names[c].unit) f.set_attr(name, "unit", std::string(names[c].unit));
  }
}

void write_predicted_optics(h5::File& f, const std::vector<double>& energy, const std::vector<ml::ModelOutput>& pred,
                            bool double_precision) {
  f.set_attr("/", "re_eps_source", ml::re_eps_source(energy));
  if (double_precision) write_optics_rows<double>(f, energy, pred);
  else write_optics_rows<float>(f, energy, pred);
}

void write_predictions(const std::filesystem::path& out, const ml::SpectrumPredictor& p,
                       const std::vector<Structure>& structures, const std::vector<std::string>& sources,
                       const std::vector<ml::ModelOutput>& pred, const nlohmann::json& provenance,
                       bool double_precision) {
  AtomicOutput atomic(out);
  {
    auto f = h5::File::create(atomic.temp_path());
    const auto& info = p.info();
    f.set_attr("/", "format", "rung-prediction");
    f.set_attr("/", "format_version", std::int64_t(1));
    f.set_attr("/", "target", ml::to_string(info.target));
    f.set_attr("/", "model", p.path().string());
    f.set_attr("/", "model_created", info.created);
    f.set_attr("/", "model_untrained", std::int64_t(info.untrained ? 1 : 0));
    f.set_attr("/", "ensemble_size", std::int64_t(info.ensemble_size));
    f.set_attr("/", "rung_version", version_string);
    f.set_attr("/", "created", rung::utc_now_iso8601());
    f.set_attr("/", "provenance", provenance.dump());
    if (info.target != ml::Target::sc) f.set_attr("/", "output_processing", provenance.at("output_processing").dump());
    std::vector<std::string> ids, formulas;
    for (const auto& s : structures) {
      ids.push_back(s.id);
      formulas.push_back(s.formula());
    }
    f.write_strings("/ids", ids);
    f.write_strings("/sources", sources);
    f.write_strings("/formulas", formulas);
    // Per structure: why it lies outside the model's training domain ("" = inside, or not known).
    std::vector<std::string> warnings;
    for (const auto& q : pred) {
      std::string w;
      for (const auto& s : q.warnings) w += (w.empty() ? "" : "; ") + s;
      warnings.push_back(w);
    }
    f.write_strings("/warnings", warnings);
    const std::uint64_t n = pred.size();
    if (info.target == ml::Target::sc) {
      std::vector<double> sc, sd;
      for (const auto& q : pred) {
        sc.push_back(*q.sc);
        if (q.sc_spread) sd.push_back(*q.sc_spread);
      }
      f.write("/sc", sc);
      if (!sd.empty()) f.write("/sc_spread", sd);
    } else {
      f.write("/energy_eV", info.grid.values_eV());
      const std::uint64_t m = info.grid.size();
      // float32 like the model's outputs; float64 when the network ran in float64 (verification).
      std::vector<double> all, spread;
      all.reserve(n * m);
      for (const auto& q : pred) {
        all.insert(all.end(), q.spectrum.begin(), q.spectrum.end());
        spread.insert(spread.end(), q.spread.begin(), q.spread.end());
      }
      auto put = [&](const std::string& name, const std::vector<double>& v) {
        if (double_precision) f.write(name, v, {n, m}, true);
        else f.write(name, std::vector<float>(v.begin(), v.end()), {n, m}, true);
      };
      put("/eps_imag", all);
      if (!spread.empty()) put("/eps_imag_spread", spread);
      all.clear();
      all.shrink_to_fit();
      // Re eps by Kramers-Kronig of the predicted Im eps and the optical constants, named as in a computed
      // spectrum file (/<component>/optical/...; io/spectra/file.hpp), in the precision of /eps_imag.
      write_predicted_optics(f, info.grid.values_eV(), pred, double_precision);
    }
    f.close();  // a write error shows here, before the commit
  }
  atomic.commit();
}

int run_predict(const PredictOptions& o) {
  if (o.structures.empty()) fail_usage("rung predict needs at least one structure file");
  if (!o.output.empty()) check_output_path(o.output);
  const auto& req = o.request;
  const ml::PredictorOptions popt = req.predictor_options();
  const std::string target = req.checked_target();
  const ml::SpectrumPredictor predictor =
      req.model.empty() ? ml::SpectrumPredictor::load_default(ml::parse_target(target.empty() ? "ipa" : target), popt)
                        : ml::SpectrumPredictor::load(req.model, popt);
  const auto& info = predictor.info();
  if (!target.empty() && ml::parse_target(target) != info.target)
    fail_usage(fmt::format("--target {} but {} predicts {}", target, predictor.path().string(), ml::to_string(info.target)));

  // Read and check everything before predicting anything: a bad file stops the run with its name.
  std::vector<Structure> structures;
  std::vector<std::string> sources;
  const auto format = parse_structure_format(req.format);
  // A folder stands for the structure files in it (sorted): no argument list grows with the data set.
  std::vector<std::string> files;
  for (const auto& arg : o.structures) {
    if (!is_structure_folder(arg)) {
      files.push_back(arg);
      continue;
    }
    for (const auto& f : structure_files_in(arg)) files.push_back(f.string());
  }
  for (const auto& file : files) {
    auto batch = read_structures(file, format);
    for (auto& s : batch) {
      const std::string origin = batch.size() == 1 ? file : fmt::format("{} ({})", file, s.id);
      graph::validate_for_model(s, origin);
      sources.push_back(file);
      structures.push_back(std::move(s));
    }
  }
  const auto pred = predictor.predict(structures);

  const nlohmann::json provenance = {{"command", command_line()},
                                     {"model", predictor.path().string()},
                                     {"target", ml::to_string(info.target)},
                                     {"precision", req.precision},
                                     {"request", req.to_json()},
                                     {"training_dataset", info.training_dataset},
                                     {"output_processing", popt.output.to_json()}};
  if (!info.domain && !info.untrained)
    std::fprintf(stderr, "rung predict: note: %s does not record its training domain (an older file): "
                         "structures are not checked against it\n", predictor.path().string().c_str());
  for (std::size_t i = 0; i < pred.size(); ++i)
    for (const auto& w : pred[i].warnings)
      std::fprintf(stderr, "rung predict: warning: %s (%s): %s\n", structures[i].id.c_str(), sources[i].c_str(), w.c_str());
  if (!o.output.empty()) write_predictions(o.output, predictor, structures, sources, pred, provenance, popt.double_precision);

  std::string text;
  if (o.json) {
    nlohmann::json j = {{"model", predictor.path().string()}, {"target", ml::to_string(info.target)},
                        {"untrained", info.untrained}, {"ensemble_size", info.ensemble_size},
                        {"energy_eV", {{"min", info.grid.emin_eV}, {"max", info.grid.emax_eV}, {"points", info.grid.size()}}},
                        {"rung_version", version_string}, {"output_processing", provenance.at("output_processing")}};
    const auto grid = info.grid.values_eV();
    if (info.target != ml::Target::sc) j["re_eps_source"] = ml::re_eps_source(grid);
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < pred.size(); ++i) {
      nlohmann::json e = {{"id", structures[i].id}, {"source", sources[i]}, {"formula", structures[i].formula()},
                          {"natoms", structures[i].size()}};
      if (pred[i].sc) e["sc"] = *pred[i].sc;
      if (pred[i].sc_spread) e["sc_spread"] = *pred[i].sc_spread;
      if (!pred[i].spectrum.empty()) e["eps_imag"] = pred[i].spectrum;
      if (!pred[i].spread.empty()) e["eps_imag_spread"] = pred[i].spread;
      if (!pred[i].spectrum.empty()) {
        const auto o = ml::predicted_optics(grid, pred[i].spectrum);
        e["eps_real"] = o.eps_real;
        nlohmann::json oc;
        for (const auto& c : optical_constant_names()) oc[c.name] = optical_constant(o.optical, c.name);
        e["optical"] = std::move(oc);
      }
      e["warnings"] = pred[i].warnings;
      list.push_back(std::move(e));
    }
    j["predictions"] = std::move(list);
    text = j.dump() + "\n";
  } else {
    if (info.untrained) text += "# note: the model has untrained (random) weights\n";
    for (std::size_t i = 0; i < pred.size(); ++i) {
      const auto& q = pred[i];
      if (q.sc) {
        text += fmt::format("{}  {}  SC(IPA,RPA) = {:.4f}", structures[i].id, structures[i].formula(), *q.sc);
        if (q.sc_spread) text += fmt::format(" +- {:.4f}", *q.sc_spread);
      } else {
        const auto it = std::max_element(q.spectrum.begin(), q.spectrum.end());
        const auto k = std::size_t(it - q.spectrum.begin());
        text += fmt::format("{}  {}  {}: max Im eps {:.4g} at {:.2f} eV", structures[i].id, structures[i].formula(),
                            ml::to_string(q.target), *it, info.grid[k]);
        if (!q.spread.empty()) text += fmt::format(" (spread {:.3g})", q.spread[k]);
      }
      if (!q.warnings.empty()) text += "  [outside the training domain]";
      text += "\n";
    }
    if (!o.output.empty()) text += fmt::format("wrote {} predictions to {}\n", pred.size(), o.output);
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
#endif

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<PredictOptions>();
  auto* cmd = app.add_subcommand("predict", "Predict Im eps (IPA or RPA) or SC(IPA,RPA) from crystal structures (OPTIMATE)");
  cmd->add_option("structures", o->structures,
                  "Structure files (CIF, POSCAR, pw.x input, prefix.save, JSON lines) or folders of them")
      ->required();
  // every predictor option from the one list of PredictRequest (its canonical key in the help)
  bind_request_flags(cmd, o->request);
  cmd->add_flag("--json", o->json, "Print JSON (with the spectra) instead of a summary");
  cmd->add_option("-o,--output", o->output, "Write all predictions to this HDF5 file");
  cmd->callback([o, cmd, &action] { action = RUNG_TORCH_ACTION("predict", run_predict(*o)); });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_predict
}  // namespace rung::cli
