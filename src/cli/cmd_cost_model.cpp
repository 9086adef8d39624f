// `rung cost-model fit SPECTRUM.h5... -o share/cost_model.json`: fits the RPA cost model
// (src/select/cost_model.hpp) to the timings in the provenance of rung's own spectrum files, and
// `rung cost-model show [FILE]` prints a model with its data points.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "io/spectrum_file.hpp"
#include "select/cost_model.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <thread>
#include <unistd.h>

namespace rung::cli {
namespace {

struct CostCli {
  std::vector<std::string> files;
  std::string output, machine, show;
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
  std::vector<select::CostPoint> points;
  for (const auto& f : o.files) {
    const auto set = read_spectrum_file(f);
    points.push_back(select::cost_point_from_provenance(set.provenance, std::filesystem::path(f).filename().string()));
  }
  const auto m = select::CostModel::fit(points, o.machine.empty() ? host_description() : o.machine);
  write_text_atomically(o.output, m.to_json().dump(2) + "\n");
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

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<CostCli>();
  auto* cmd = app.add_subcommand("cost-model", "Fit or show the RPA cost model used by `rung select`");
  cmd->require_subcommand(1);
  auto* fit = cmd->add_subcommand("fit", "Fit the cost model to the timings of rung spectrum files");
  fit->add_option("SPECTRUM", o->files, "rung HDF5 spectrum files written by `rung spectrum` (RPA runs)")->required();
  fit->add_option("-o,--output", o->output, "Cost model JSON to write (e.g. share/cost_model.json)")->required();
  fit->add_option("--machine", o->machine, "Description of the machine the runs were timed on");
  fit->callback([o, &action] { action = [o] { return run_fit(*o); }; });
  auto* show = cmd->add_subcommand("show", "Print a cost model and its data points");
  show->add_option("FILE", o->show, "Cost model JSON (default: share/cost_model.json)");
  show->callback([o, &action] { action = [o] { return run_show(*o); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace
}  // namespace rung::cli
