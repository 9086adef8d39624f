// `rung plot FILE... -o fig.png|svg [--quantity im|re|eps|n|k|reflectivity|absorption_cm|loss|all]...`: spectra
// of any format rung reads (rung HDF5, YAMBO o-files, QE epsilon.x, turbo_spectrum.x) overlaid, one panel per
// quantity, with labels and units (select/report_plot.hpp draws it, the same path as validate's figures).
// `rung plot --table POINTS.tsv -o fig.png`: curves from a table of points (series, x, y), e.g. the learning
// curves that tools/learning_curves.sh tabulates.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "select/report_plot.hpp"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

namespace rung::cli {
namespace cmd_plot {  // this command's own names, distinct when the commands are compiled in one batch

struct PlotCli {
  std::vector<std::string> files;
  std::string output, table;
  select::SpectraPlotOptions options;
};

int run_plot(PlotCli o) {
  if (o.table.empty() == o.files.empty()) fail_usage("give spectrum files or --table POINTS, not both and not neither");
  select::check_figure_path(o.output);
  if (!o.table.empty()) {
    auto panel = select::table_panel(o.table);
    if (!o.options.title.empty()) panel.title = o.options.title;
    select::plot_lines({panel}, o.output);
    std::printf("%s", fmt::format("wrote {} ({} curves from {})\n", o.output, panel.curves.size(), o.table).c_str());
    return 0;
  }
  if (o.options.quantities.empty()) o.options.quantities = {"im"};
  std::vector<std::filesystem::path> files(o.files.begin(), o.files.end());
  const auto panels = select::spectra_panels(files, o.options);  // reads everything before drawing
  select::plot_lines(panels, o.output);
  std::printf("%s", fmt::format("wrote {} ({} spectra, {} panels)\n", o.output, files.size(), panels.size()).c_str());
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<PlotCli>();
  o->options.quantities.clear();
  auto* cmd = app.add_subcommand("plot", "Plot spectra (rung HDF5, YAMBO o-files, epsilon.x, turbo) overlaid: Im/Re eps or optical constants");
  cmd->add_option("FILE", o->files, "Spectrum files, any format rung reads");
  auto* table = cmd->add_option(
      "--table", o->table,
      "Instead of spectra: a table of points, header 'series<TAB>x name<TAB>y name', then one point per line");
  cmd->add_option("-o,--output", o->output, "Figure file (.png or .svg)")->required();
  // options of spectra only: refused with --table, which would ignore them
  cmd->add_option(
         "-q,--quantity", o->options.quantities,
         "im, re, eps (both), n, k, reflectivity, absorption_cm, loss or all; repeatable, one panel each (default im)")
      ->excludes(table);
  cmd->add_option("--component", o->options.component, "Component of rung HDF5 files: x, y, z, trace, q_...")
      ->excludes(table);
  cmd->add_option("--label", o->options.labels, "Legend label per file, in order (default: the file name)")
      ->excludes(table);
  cmd->add_flag("--nolf", o->options.nolf, "Also plot eps without local fields where the file has it")->excludes(table);
  cmd->add_option("--title", o->options.title, "Panel title (default: the quantity)");
  cmd->callback([o, &action] { action = [o] { return run_plot(*o); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_plot
}  // namespace rung::cli
