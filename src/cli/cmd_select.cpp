// `rung select INPUT...`: predict whether the RPA will differ from the IPA enough to matter, estimate
// what it would cost, decide (ipa-sufficient / rpa-needed / uncertain), optionally launch it, and log
// every decision as JSON. `--batch FILE` spreads a list over the MPI ranks (a static task farm: input
// i goes to rank i mod size) and ends with a summary. See doc/selection.md.
#include "cli/commands.hpp"
#include "cli/request_flags.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/version.hpp"
#include "select/launch.hpp"
#include "select/report_plot.hpp"
#include "select/run_selection.hpp"
#include "select/selection.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace rung::cli {
namespace cmd_select {  // this command's own names, distinct when the commands are compiled in one batch

struct SelectCli {
  std::vector<std::string> inputs, plots;
  std::string batch;
  select::SelectRequest request;  // every option, bound to its flag by SelectRequest::visit
  bool json = false, quiet = false, no_probe = false;
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

// CPU time for people: seconds below an hour, hours above.
std::string cpu_time(double seconds) {
  return seconds < 3600 ? fmt::format("{:.3g} CPU-s", seconds) : fmt::format("{:.3g} CPU-h", seconds / 3600);
}

std::string one_line(const nlohmann::json& r) {
  if (r.contains("error"))
    return fmt::format("{}{}: error: {}\n", r.value("input_path", "?"),
                       r.contains("item") ? " [" + r["item"].get<std::string>() + "]" : std::string(),
                       r["error"].get<std::string>());
  const auto& in = r["input"];
  const auto& e = r["evidence"];
  // the interval the policy compared with the threshold: the evidence's, scaled by --spread-factor
  const auto& compared = r["policy"]["interval"];
  const double lo = compared[0].get<double>(), hi = compared[1].get<double>();
  const bool scaled = r["policy"].value("spread_factor", 1.0) != 1.0;
  const double coverage = scaled ? 0.0 : e.value("coverage", 0.0);
  std::string evidence = e.value("source", "?");
  if (evidence == "qe-probe") {
    const auto& d = e["details"];
    evidence = fmt::format("QE probe at {} G, {:.2g} s", d.value("probe_n_g", 0), d["cost"].value("wall_s", 0.0));
    if (d.contains("model_cross_check"))
      evidence += fmt::format("; model {:.3f}", d["model_cross_check"]["sc_ipa_rpa"].get<double>());
  } else if (evidence == "model" && e["details"].contains("probe_not_run")) {
    evidence += " (no probe: see the log)";
  }
  std::string s = fmt::format(
      "{} ({}): {}   SC(IPA,RPA) = {:.3f} [{:.3f}, {:.3f}]{}, threshold {:.3f}, evidence: {}", in.value("formula", "?"),
      in.value("path", "?"), r["decision"].get<std::string>(), e["sc_ipa_rpa"].get<double>(), lo, hi,
      coverage > 0 ? fmt::format(" ({:.0f} %)", 100 * coverage)
      : scaled     ? fmt::format(" ({:g} x the interval)", r["policy"]["spread_factor"].get<double>())
                   : std::string(" (spread)"),
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
  std::vector<std::string> inputs = o.inputs;
  if (!o.batch.empty())
    for (auto& s : read_batch_list(o.batch)) inputs.push_back(std::move(s));
  if (inputs.empty()) fail_usage("give at least one INPUT or --batch FILE");
  // the figures before anything is decided, logged or launched (the log is checked with the request), by rank 0,
  // which draws them; its verdict is every rank's
  const Comm comm;
  agreed_on_every_rank(comm, [&] {
    if (comm.is_root())
      for (const auto& f : o.plots) select::check_figure_path(f);
  });

  select::SelectRequest req = o.request;
  req.probe = !o.no_probe;
  select::SelectionContext ctx;
  ctx.batch = !o.batch.empty() || comm.size() > 1;
  ctx.progress = !o.quiet;
  std::error_code ec;
  if (const auto self = std::filesystem::read_symlink("/proc/self/exe", ec); !ec) ctx.rung_executable = self.string();
  const auto summary = select::run_selection(inputs, req, comm, ctx);
  if (!comm.is_root()) return 0;
  const auto& records = summary.records;
  const std::size_t n_err = summary.failed;
  const bool cost = summary.cpu_hours_saved.has_value();

  // structures outside the models' training domain: said once per material on stderr (and kept in the record)
  for (const auto& r : records)
    if (r.contains("prediction") && r["prediction"].contains("warnings"))
      for (const auto& w : r["prediction"]["warnings"])
        std::fprintf(stderr, "rung select: warning: %s (%s): %s\n", r["input"].value("formula", "?").c_str(),
                     r["input"].value("path", "?").c_str(), w.get<std::string>().c_str());
  if (summary.untrained)
    std::fprintf(stderr, "rung select: warning: the model is marked untrained (random weights from `rung train "
                         "--epochs 0`): these decisions exercise the machinery only and mean nothing physically\n");
  if (o.json) {
    auto sum = summary.to_json();
    sum["log"] = req.log;
    nlohmann::json out{{"decisions", records}, {"summary", sum}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::string text;
    for (const auto& r : records) text += one_line(r);
    if (records.size() > 1 || !o.batch.empty()) {
      const std::size_t to_run = summary.rpa_needed + summary.uncertain;
      text += fmt::format("\nsummary: {} materials ({} failed): {} ipa-sufficient, {} rpa-needed, {} uncertain -> {} "
                          "RPA runs\n", records.size() - n_err, n_err, summary.ipa_sufficient, summary.rpa_needed,
                          summary.uncertain, to_run);
      if (cost)
        text += fmt::format(
            "estimated CPU time (rung's native RPA{}): {} saved by skipping {} RPA runs, {} for the {} to "
            "run\n",
            req.launch == "yambo" ? "; YAMBO's costs several times more" : "",
            cpu_time(*summary.cpu_hours_saved * 3600), summary.ipa_sufficient,
            cpu_time(*summary.cpu_hours_to_run * 3600), to_run);
      else
        text += "estimated CPU time: unknown (no cost model: share/cost_model.json is missing)\n";
    }
    if (!req.log.empty() && req.log != "-") text += fmt::format("decision log: {}\n", req.log);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (!o.plots.empty()) {
    select::DecisionFigure fig;
    fig.threshold = req.threshold;
    fig.title = fmt::format("rung select: {} materials", records.size() - n_err);
    for (const auto& r : records) {
      if (r.contains("error")) continue;
      const auto& e = r["evidence"];
      const auto& compared = r["policy"]["interval"];  // as the policy compared it (--spread-factor applied)
      fig.points.push_back({r["input"].value("formula", "?"), e.value("source", "model"), e["sc_ipa_rpa"].get<double>(),
                            compared[0].get<double>(), compared[1].get<double>(), std::nullopt});
    }
    if (!fig.points.empty())
      for (const auto& f : o.plots) select::plot_decisions(fig, f);
  }
  if (summary.launch_failed > 0)
    std::fprintf(stderr, "rung select: %zu launch(es) failed; the decisions are logged with the reason\n",
                 summary.launch_failed);
  return n_err > 0 ? 2 : summary.launch_failed > 0 ? 1 : 0;
}

void setup(CLI::App& app, Action& action, const Context& ctx) {
  auto o = std::make_shared<SelectCli>();
  o->request.log = "rung-select.jsonl";
  auto* cmd = app.add_subcommand("select", "Decide whether the RPA is worth running (SC(IPA,RPA) with its interval vs a threshold)");
  cmd->add_option("INPUT", o->inputs, "Structure files (CIF, POSCAR, pw.x input, JSON lines) or QE prefix.save folders");
  cmd->add_option("--batch", o->batch, "File listing inputs, one per line (spread over the MPI ranks)");
  // every option from the one list of SelectRequest (its canonical key in the help)
  bind_request_flags(cmd, o->request);
  cmd->add_flag("--no-probe", o->no_probe, "On a QE save, decide on the model alone (no RPA probe) [key probe]");
  cmd->add_option("--plot", o->plots, "Figure of the decisions: SC with its interval per material against the threshold (.png/.svg)");
  cmd->add_flag("--json", o->json, "Print the decisions and the summary as JSON");
  cmd->callback([o, &action, &ctx] {
    o->quiet = ctx.quiet;
    action = [o] { return run_select(*o); };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_select
}  // namespace rung::cli
