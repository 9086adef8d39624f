// `rung select INPUT...`: predict whether the RPA will differ from the IPA enough to matter, estimate
// what it would cost, decide (ipa-sufficient / rpa-needed / uncertain), optionally launch it, and log
// every decision as JSON. `--batch FILE` spreads a list over the MPI ranks (a static task farm: input
// i goes to rank i mod size) and ends with a summary. See doc/selection.md.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/version.hpp"
#include "select/launch.hpp"
#include "select/report_plot.hpp"
#include "select/selection.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace rung::cli {
namespace {

struct SelectCli {
  std::vector<std::string> inputs;
  std::vector<std::string> plots;
  std::string batch, model, cost_model, calibration, log = "rung-select.jsonl", launch = "none", outdir = "rung-select";
  select::PolicyOptions policy;
  select::SizeOptions size;
  bool block_cutoff_given = false;
  bool json = false, with_spectra = false, quiet = false, no_probe = false;
};

std::vector<std::string> read_batch_list(const std::string& file) {
  require_exists(file);
  std::ifstream in(file);
  if (!in) fail_input(file, "cannot be read");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos || line[a] == '#') continue;
    const auto b = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(a, b - a + 1));
  }
  if (out.empty()) fail_input(file, "lists no inputs");
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Appends the records to the JSON-lines log, atomically (the whole file is rewritten and renamed).
void append_log(const std::string& path, const std::vector<nlohmann::json>& records) {
  if (path.empty() || path == "-") return;
  std::string text;
  if (std::ifstream old(path); old) text.assign(std::istreambuf_iterator<char>(old), {});
  if (!text.empty() && text.back() != '\n') text += '\n';
  for (const auto& r : records) text += r.dump() + '\n';
  write_text_atomically(path, text);
}

// CPU time for people: seconds below an hour, hours above.
std::string cpu_time(double seconds) {
  return seconds < 3600 ? fmt::format("{:.3g} CPU-s", seconds) : fmt::format("{:.3g} CPU-h", seconds / 3600);
}

std::string one_line(const nlohmann::json& r) {
  if (r.contains("error")) return fmt::format("{}: error: {}\n", r.value("input_path", "?"), r["error"].get<std::string>());
  const auto& in = r["input"];
  const auto& e = r["evidence"];
  const double lo = e["interval"][0].get<double>(), hi = e["interval"][1].get<double>();
  const double coverage = e.value("coverage", 0.0);
  std::string evidence = e.value("source", "?");
  if (evidence == "qe-probe") {
    const auto& d = e["details"];
    evidence = fmt::format("QE probe at {} G, {:.2g} s", d.value("probe_n_g", 0), d["cost"].value("wall_s", 0.0));
    if (d.contains("model_cross_check"))
      evidence += fmt::format("; model {:.3f}", d["model_cross_check"]["sc_ipa_rpa"].get<double>());
  } else if (evidence == "model" && e["details"].contains("probe_not_run")) {
    evidence += " (no probe: see the log)";
  }
  std::string s = fmt::format("{} ({}): {}   SC(IPA,RPA) = {:.3f} [{:.3f}, {:.3f}]{}, threshold {:.3f}, evidence: {}",
                              in.value("formula", "?"), in.value("path", "?"), r["decision"].get<std::string>(),
                              e["sc_ipa_rpa"].get<double>(), lo, hi,
                              coverage > 0 ? fmt::format(" ({:.0f} %)", 100 * coverage) : std::string(" (spread)"),
                              r["policy"]["threshold"].get<double>(), evidence);
  const auto& c = r["rpa_cost_estimate"];
  if (c["cpu_seconds"].is_number()) s += ", RPA ≈ " + cpu_time(c["cpu_seconds"].get<double>());
  const auto& l = r["launch"];
  const std::string status = l.value("status", "");
  if (status == "ran") {
    s += fmt::format("   [{} RPA ran: {}", l.value("mode", ""), l.value("output", l.value("workdir", "")));
    if (l.contains("wall_s")) s += fmt::format(", {:.3g} s", l["wall_s"].get<double>());
    if (l.contains("sc_ipa_rpa")) s += fmt::format(", SC {:.3f}", l["sc_ipa_rpa"].get<double>());
    s += "]";
  } else if (status == "written") s += fmt::format("   [YAMBO inputs written: run {}]", l.value("script", ""));
  else if (status == "skipped" || status == "failed") s += "   [not launched: " + l.value("message", "") + "]";
  return s + "\n";
}

int run_select(const SelectCli& o) {
  o.policy.validate();
  const auto launch_mode = select::parse_launch_mode(o.launch);
  std::vector<std::string> inputs = o.inputs;
  if (!o.batch.empty())
    for (auto& s : read_batch_list(o.batch)) inputs.push_back(std::move(s));
  if (inputs.empty()) fail_usage("give at least one INPUT or --batch FILE");

  const Comm comm;
  const bool batch = !o.batch.empty() || comm.size() > 1;
  const auto cost = o.cost_model.empty() ? select::CostModel::load_default()
                                         : std::optional<select::CostModel>(select::CostModel::load(o.cost_model));
  std::unique_ptr<select::Predictor> predictor;
  select::EvidenceOptions eo;
  eo.probe = !o.no_probe;
  eo.calibration = o.calibration.empty() ? select::Calibration::load_default()
                                         : std::optional<select::Calibration>(select::Calibration::load(o.calibration));
  select::LaunchOptions lo;
  lo.mode = launch_mode;
  lo.outdir = o.outdir;
  if (o.block_cutoff_given) lo.block_cutoff_Ry = o.size.block_cutoff_Ry;
  {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) lo.rung_executable = self.string();
  }
  lo.progress = !o.quiet && !batch;

  // This rank's share of the farm.
  std::vector<nlohmann::json> mine;
  for (std::size_t i = std::size_t(comm.rank()); i < inputs.size(); i += std::size_t(comm.size())) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const auto items = select::read_select_inputs(inputs[i]);
      for (const auto& in : items) {
        // The model is loaded on first need: a QE save decided by its probe needs no LibTorch.
        if (!predictor && (select::have_model_predictor() || !in.save)) predictor = select::load_model_predictor(o.model);
        const auto t1 = std::chrono::steady_clock::now();
        auto r = select::select_one(in, predictor.get(), eo, o.policy, o.size, cost ? &*cost : nullptr,
                                    o.with_spectra, Comm::self());
        const auto t2 = std::chrono::steady_clock::now();
        r.record["launch"] = select::launch_rpa(in, r.decision, lo, r.evidence.sc);
        r.record["timings_s"]["launch"] = seconds_since(t2);
        r.record["timings_s"]["total"] = seconds_since(t1);
        r.record["mpi"] = {{"rank", comm.rank()}, {"ranks", comm.size()}};
        mine.push_back(std::move(r.record));
      }
    } catch (const Error& e) {
      if (!batch) throw;
      mine.push_back({{"input_path", inputs[i]}, {"error", e.what()}, {"exit_code", e.exit_code()},
                      {"rung_version", version_string}, {"timings_s", {{"total", seconds_since(t0)}}}});
    }
  }

  // Collect on rank 0 (in input order per rank; the log is ordered by rank, then input).
  nlohmann::json packed = mine;
  const auto all = comm.gather(packed.dump());
  if (!comm.is_root()) return 0;
  std::vector<nlohmann::json> records;
  for (const auto& blob : all)
    for (auto& r : nlohmann::json::parse(blob)) records.push_back(std::move(r));
  append_log(o.log, records);

  std::size_t n_ipa = 0, n_rpa = 0, n_unc = 0, n_err = 0, n_cost = 0, n_launch_failed = 0;
  double saved_s = 0, needed_s = 0;
  bool untrained = false;
  for (const auto& r : records) {
    if (r.contains("error")) { ++n_err; continue; }
    untrained = untrained || (r.contains("model") && r["model"].value("untrained", false));
    if (r.contains("launch") && r["launch"].value("status", "") == "failed") ++n_launch_failed;
    const std::string d = r["decision"];
    const auto& c = r["rpa_cost_estimate"]["cpu_seconds"];
    if (c.is_number()) ++n_cost;
    if (d == "ipa-sufficient") { ++n_ipa; if (c.is_number()) saved_s += c.get<double>(); }
    else { (d == "rpa-needed" ? n_rpa : n_unc)++; if (c.is_number()) needed_s += c.get<double>(); }
  }
  nlohmann::json summary{{"materials", records.size() - n_err}, {"failed", n_err},
                         {"ipa_sufficient", n_ipa}, {"rpa_needed", n_rpa}, {"uncertain", n_unc},
                         {"rpa_to_run", n_rpa + n_unc},
                         {"cpu_hours_saved_estimate", cost ? nlohmann::json(saved_s / 3600) : nlohmann::json(nullptr)},
                         {"cpu_hours_to_run_estimate", cost ? nlohmann::json(needed_s / 3600) : nlohmann::json(nullptr)},
                         {"log", o.log}, {"untrained_model", untrained}};
  if (untrained)
    std::fprintf(stderr, "rung select: warning: the model is marked untrained (random weights from `rung train "
                         "--epochs 0`): these decisions exercise the machinery only and mean nothing physically\n");
  if (o.json) {
    nlohmann::json out{{"decisions", records}, {"summary", summary}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::string text;
    for (const auto& r : records) text += one_line(r);
    if (records.size() > 1 || !o.batch.empty()) {
      text += fmt::format("\nsummary: {} materials ({} failed): {} ipa-sufficient, {} rpa-needed, {} uncertain -> {} "
                          "RPA runs\n", records.size() - n_err, n_err, n_ipa, n_rpa, n_unc, n_rpa + n_unc);
      if (cost)
        text += fmt::format("estimated CPU time: {} saved by skipping {} RPA runs, {} for the {} to run\n",
                            cpu_time(saved_s), n_ipa, cpu_time(needed_s), n_rpa + n_unc);
      else
        text += "estimated CPU time: unknown (no cost model: share/cost_model.json is missing)\n";
    }
    if (!o.log.empty() && o.log != "-") text += fmt::format("decision log: {}\n", o.log);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (!o.plots.empty()) {
    select::DecisionFigure fig;
    fig.threshold = o.policy.threshold;
    fig.title = fmt::format("rung select: {} materials", records.size() - n_err);
    for (const auto& r : records) {
      if (r.contains("error")) continue;
      const auto& e = r["evidence"];
      fig.points.push_back({r["input"].value("formula", "?"), e.value("source", "model"), e["sc_ipa_rpa"].get<double>(),
                            e["interval"][0].get<double>(), e["interval"][1].get<double>(), std::nullopt});
    }
    if (!fig.points.empty())
      for (const auto& f : o.plots) select::plot_decisions(fig, f);
  }
  if (n_launch_failed > 0)
    std::fprintf(stderr, "rung select: %zu launch(es) failed; the decisions are logged with the reason\n", n_launch_failed);
  return n_err > 0 ? 2 : n_launch_failed > 0 ? 1 : 0;
}

void setup(CLI::App& app, Action& action, const Context& ctx) {
  auto o = std::make_shared<SelectCli>();
  auto* cmd = app.add_subcommand("select", "Decide whether the RPA is worth running (predicted SC(IPA,RPA) vs a threshold)");
  cmd->add_option("INPUT", o->inputs, "Structure files (CIF, POSCAR, pw.x input, JSON lines) or QE prefix.save folders");
  cmd->add_option("--batch", o->batch, "File listing inputs, one per line (spread over the MPI ranks)");
  cmd->add_option("--threshold", o->policy.threshold, "SC(IPA,RPA) at or above which the IPA is sufficient")
      ->capture_default_str();
  cmd->add_option("--spread-factor", o->policy.spread_factor, "Interval half-width in units of the ensemble spread")
      ->capture_default_str();
  cmd->add_option("--max-spread", o->policy.max_spread, "Spread above which the decision is 'uncertain'")
      ->capture_default_str();
  cmd->add_option("--launch", o->launch, "none | native (rung's RPA with G-block convergence) | yambo (inputs + commands)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "Model folder (ipa.h5, rpa.h5, sc.h5) or sc model file; default share/models");
  cmd->add_option("--cost-model", o->cost_model, "Cost model JSON; default share/cost_model.json");
  cmd->add_option("--calibration", o->calibration,
                  "Probe correction and intervals (from `rung calibrate`); default share/models/calibration.json");
  cmd->add_option("--plot", o->plots, "Figure of the decisions: SC with its interval per material against the threshold (.png/.svg)");
  cmd->add_flag("--no-probe", o->no_probe, "On a QE save, decide on the model alone (no RPA probe)");
  auto* block = cmd->add_option("--block-cutoff", o->size.block_cutoff_Ry,
                                 "G-block cut-off (Ry) of the cost estimate; when given, also the fixed block of both "
                                 "launches (else they converge it the same way)")
                     ->capture_default_str();
  cmd->add_option("--kppa", o->size.kppa, "k-points per reciprocal atom assumed for structure inputs")->capture_default_str();
  cmd->add_option("--log", o->log, "JSON-lines decision log to append to ('-' for none)")->capture_default_str();
  cmd->add_option("--outdir", o->outdir, "Where launched runs write (native spectra, YAMBO inputs)")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the decisions and the summary as JSON");
  cmd->add_flag("--with-spectra", o->with_spectra, "Put the predicted spectra into the JSON records");
  cmd->callback([o, &action, &ctx, block] {
    o->quiet = ctx.quiet;
    o->block_cutoff_given = block->count() > 0;
    action = [o] { return run_select(*o); };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace
}  // namespace rung::cli
