// `rung cost-model fit FILE.h5... -o share/cost_model.json`: fits the RPA cost model
// (src/select/cost_model.hpp) to the timings in the provenance of rung's own spectrum files or of every
// RPA run in a data set; `rung cost-model show [FILE]` prints a model with its data points;
// `rung cost-model check DATA.h5` measures how far the estimate `rung select` makes from a structure
// alone (before any QE run) is from the sizes and CPU times a data set actually had.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"
#include "ml/dataset_file.hpp"
#include "select/cost_model.hpp"

#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <thread>
#include <unistd.h>

namespace rung::cli {
namespace cmd_cost_model {  // this command's own names, distinct when the commands are compiled in one batch

struct CostCli {
  std::vector<std::string> files;
  std::string output, machine, show, check, model;
  select::SizeOptions size;
};


std::string host_description() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return fmt::format("{} ({} hardware threads)", host, std::thread::hardware_concurrency());
}

std::string describe(const select::CostModel& m) {
  std::string s = "cpu_seconds =";
  const auto names = select::CostModel::term_names();
  for (int i = 0; i < select::CostModel::n_terms; ++i)
    s += fmt::format("{} {:.4g}·{}", i ? " +" : "", m.coefficients[i], names[i]);
  s += "\n";
  s += fmt::format("fitted to {} runs on {}; median relative error {:.1f} %\n", m.points.size(), m.machine,
                   100 * m.median_relative_error);
  s += fmt::format("{:>8} {:>6} {:>6} {:>6} {:>6}  {:>10} {:>10}  {}\n", "nk", "nv", "nc", "ng", "nfreq", "measured_s",
                   "model_s", "source");
  for (const auto& p : m.points)
    s += fmt::format("{:>8g} {:>6g} {:>6.3g} {:>6g} {:>6g}  {:>10.3f} {:>10.3f}  {}\n", p.size.nk, p.size.n_valence,
                     p.size.n_conduction, p.size.n_g, p.size.n_freq, p.cpu_seconds, m.cpu_seconds(p.size), p.source);
  return s;
}

int run_fit(const CostCli& o) {
  check_output_path(o.output);
  std::vector<select::CostPoint> points;
  for (const auto& f : o.files) {
    if (h5::has_format(f, optimate_dataset_format)) {
      auto more = select::cost_points_from_dataset(f);
      if (more.empty()) fail_input(f, "a data set without any RPA run to time");
      points.insert(points.end(), more.begin(), more.end());
      continue;
    }
    const auto set = read_spectrum_file(f);
    points.push_back(select::cost_point_from_provenance(set.provenance, std::filesystem::path(f).filename().string()));
  }
  const auto m = select::CostModel::fit(points, o.machine.empty() ? host_description() : o.machine);
  // what it was fitted to and how: the inputs with their fingerprints, the command, rung's version, the time
  auto j = m.to_json();
  auto provenance = output_provenance();
  auto& inputs = provenance["inputs"] = nlohmann::json::array();
  for (const auto& f : o.files) inputs.push_back({{"file", f}, {"fingerprint", file_fingerprint(f)}});
  j["provenance"] = std::move(provenance);
  write_text_atomically(o.output, j.dump(2) + "\n");
  const std::string text = describe(m) + fmt::format("wrote {}\n", o.output);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

int run_show(const CostCli& o) {
  const auto m = o.show.empty() ? select::CostModel::load_default() : std::optional(select::CostModel::load(o.show));
  if (!m) fail_usage("no cost model installed (share/cost_model.json); fit one with `rung cost-model fit`");
  const std::string text = describe(*m);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

// Estimated / actual, per quantity, over a data set's RPA runs.
int run_check(const CostCli& o) {
  const auto m = o.model.empty() ? select::CostModel::load_default() : std::optional(select::CostModel::load(o.model));
  if (!m) fail_usage("no cost model installed (share/cost_model.json); give one with --model");
  const auto c = select::check_cost_model(*m, o.check, o.size);
  std::string s =
      fmt::format("{}: {} RPA runs; estimated / actual (median, 10th-90th percentile)\n", o.check, c.nk.size());
  auto row = [&s](const char* what, const std::vector<double>& r) {
    std::vector<double> rel;
    for (double x : r) rel.push_back(std::abs(x - 1));
    s += fmt::format("  {:<44} {:7.3f}  ({:.3f}-{:.3f})  median |ratio-1| {:.2f}\n", what, quantile(r, 0.5),
                     quantile(r, 0.1), quantile(r, 0.9), quantile(rel, 0.5));
  };
  row("k-points (the factory's grid for --kppa)", c.nk);
  row("transitions per k (Nv x Nc)", c.transitions);
  row("G block (the run's block, from the structure)", c.n_g);
  row("CPU time, sizes from the structure alone", c.cpu_from_structure);
  row("CPU time, the run's own sizes", c.cpu_own_sizes);
  std::fwrite(s.data(), 1, s.size(), stdout);
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<CostCli>();
  auto* cmd = app.add_subcommand("cost-model", "Fit or show the RPA cost model used by `rung select`");
  cmd->require_subcommand(1);
  auto* fit = cmd->add_subcommand("fit", "Fit the cost model to the timings of rung spectrum files or data sets");
  fit->add_option("SPECTRUM", o->files, "rung HDF5 spectrum files written by `rung spectrum` (RPA runs) or data sets (their RPA runs)")->required();
  fit->add_option("-o,--output", o->output, "Cost model JSON to write (e.g. share/cost_model.json)")->required();
  fit->add_option("--machine", o->machine, "Description of the machine the runs were timed on");
  fit->callback([o, &action] { action = [o] { return run_fit(*o); }; });
  auto* check = cmd->add_subcommand("check", "Compare the structure-only estimate with a data set's RPA runs");
  check->add_option("DATA", o->check, "A rung data set (`rung dataset run` output)")->required();
  check->add_option("--model", o->model, "Cost model JSON (default: share/cost_model.json)");
  check->add_option("--kppa", o->size.kppa, "k-points per reciprocal atom of the estimate");
  check->add_option("--block-cutoff", o->size.block_cutoff_Ry,
                    "G-block cut-off of the estimate (Ry); default: the converged launch's largest block");
  check->callback([o, &action] { action = [o] { return run_check(*o); }; });
  auto* show = cmd->add_subcommand("show", "Print a cost model and its data points");
  show->add_option("FILE", o->show, "Cost model JSON (default: share/cost_model.json)");
  show->callback([o, &action] { action = [o] { return run_show(*o); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_cost_model
}  // namespace rung::cli
