// `rung compare A B`: spectral similarity (SC, MSE, MAE; src/core/metrics.hpp) of spectrum A
// against the reference B, both read by read_any_spectrum (rung HDF5, YAMBO o-files, QE epsilon.x,
// turbo_spectrum.x), compared on B's grid over the energy range they share, like with like (a trace with a trace,
// a direction with the same direction: require_same_component).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "io/spectra/file.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rung::cli {
namespace cmd_compare {  // this command's own names, distinct when the commands are compiled in one batch

struct CompareOptions {
  std::string a, b, component, column = "im";
  bool json = false, direction_as_trace = false;
  double min_sc = -1;           // < 0: no check
  double unchanged_below = -1;  // < 0: no check
};

int run_compare(const CompareOptions& o) {
  if (o.column != "im" && o.column != "re") fail_usage("--column must be 'im' or 're', not '" + o.column + "'");
  const auto c = compare_spectrum_files(o.a, o.b, o.component, o.column, o.direction_as_trace);
  const auto& d = c.distance;
  const std::size_t n = c.n_points;
  const double lo = c.lo_eV, hi = c.hi_eV;
  if (o.json) {
    nlohmann::json j{{"sc", d.sc},         {"mse", d.mse},       {"mae", d.mae},
                     {"n_points", n},      {"range_eV", {lo, hi}}, {"column", o.column},
                     {"a", o.a},           {"b", o.b}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    const char* what = o.column == "re" ? "Re eps" : "Im eps";
    std::printf("%s", fmt::format("{} of {} ({}) against the reference {} ({})\n", what, o.a, c.format_a, o.b,
                                  c.format_b).c_str());
    std::printf("%s", fmt::format("common grid: {} points, {:g} .. {:g} eV\n", n, lo, hi).c_str());
    std::printf("SC  = %.6f\nMSE = %.6g\nMAE = %.6g\n", d.sc, d.mse, d.mae);
  }
  // a scriptable check (YAMBO launch scripts converge their G block with it): exit 4 below the bound, a status of
  // its own (1, 2 and 3 are rung's errors: a script must not read a failed comparison as "below")
  if (o.min_sc >= 0 && !(d.sc >= o.min_sc)) {
    if (!o.json) std::printf("SC %.6f < %.6f\n", d.sc, o.min_sc);
    return 4;
  }
  // ... and 5 when the two agree so closely that nothing changed between them (a G block whose added shells move
  // nothing: rung's own --converge never ends on such a step, and its YAMBO ladder does the same with this)
  if (o.unchanged_below > 0 && 1.0 - d.sc < o.unchanged_below) {
    if (!o.json) std::printf("1 - SC = %.3g < %.3g: unchanged\n", 1.0 - d.sc, o.unchanged_below);
    return 5;
  }
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto opts = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand("compare", "Similarity (SC, MSE, MAE) of spectrum A against reference B");
  cmd->add_option("A", opts->a, "Spectrum to judge (rung .h5, YAMBO o-file, epsilon.x epsr/epsi, plot_eps)")
      ->required();
  cmd->add_option("B", opts->b, "Reference spectrum (same formats)")->required();
  cmd->add_flag("--json", opts->json,
                "Print {\"sc\",\"mse\",\"mae\",\"n_points\",\"range_eV\",\"column\",\"a\",\"b\"} as JSON");
  cmd->add_option("--component", opts->component,
                  "x, y, z, trace or q_a_b_c (rung files, epsilon.x); default: trace / the only one");
  cmd->add_option("--column", opts->column, "Which part of eps: im (default) or re");
  cmd->add_flag("--direction-as-trace", opts->direction_as_trace,
                "Compare one direction with a trace (right only for a cubic crystal); refused otherwise");
  cmd->add_option("--min-sc", opts->min_sc,
                  "Exit with status 4 when SC lies below this value (rung's errors exit 1-3)");
  cmd->add_option("--unchanged-below", opts->unchanged_below,
                  "Exit with status 5 when 1 - SC lies below this value (the spectra are the same) and --min-sc "
                  "holds");
  cmd->callback([opts, &action] { action = [opts] { return run_compare(*opts); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_compare
}  // namespace rung::cli
