// `rung validate PREDICTED COMPUTED...`: SC, MSE and MAE of predicted spectra against computed ones,
// per material and aggregated (median, quartiles), with optional PLplot figures. Pairing:
//   PREDICTED is a folder   -> each COMPUTED is compared with the file of the same stem in it (a COMPUTED
//                               folder stands for its files)
//                               (any extension the readers know);
//   --pairs                 -> the arguments are P1 C1 P2 C2 ... ;
//   otherwise               -> the one PREDICTED against every COMPUTED (a `rung predict -o` file with
//                               several structures: the entry whose id is the COMPUTED file's stem).
// Like is compared with like: a trace with a trace, a direction with the same direction
// (select/validation.hpp); anything else is an error saying why.
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "select/report_plot.hpp"
#include "select/validation.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>

namespace rung::cli {
namespace cmd_validate {  // this command's own names, distinct when the commands are compiled in one batch

namespace fs = std::filesystem;

struct ValidateCli {
  std::string predicted;
  std::vector<std::string> computed;
  std::string component, plot, json_out;
  bool json = false, pairs = false, direction_as_trace = false;
  int panels = 8;
};

fs::path match_in_folder(const fs::path& dir, const fs::path& computed) {
  const auto stem = computed.stem().string();
  std::vector<fs::path> hits;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().stem() == stem) hits.push_back(e.path());
  if (hits.empty()) fail_input(dir, "has no prediction named like " + computed.filename().string() + " (stem '" + stem + "')");
  if (hits.size() > 1) fail_input(dir, "has several predictions with the stem '" + stem + "'");
  return hits.front();
}

// COMPUTED as given, a folder standing for its files (sorted; hidden ones left out), so that
// `rung validate predicted/ computed/` compares every computed spectrum with its prediction.
std::vector<std::string> expand_folders(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& g : given) {
    std::error_code ec;
    if (!fs::is_directory(g, ec)) {
      out.push_back(g);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(g))
      if (e.is_regular_file() && !e.path().filename().string().starts_with(".")) files.push_back(e.path().string());
    if (files.empty()) fail_input(g, "is a folder without files: no computed spectra to compare with");
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

int run_validate(const ValidateCli& given) {
  ValidateCli o = given;
  // both outputs before any work: neither is written unless both can be
  if (!o.plot.empty()) select::check_figure_path(o.plot);
  if (!o.json_out.empty()) check_output_path(o.json_out);
  o.computed = expand_folders(o.computed);
  std::vector<select::ValidationEntry> entries;
  const select::ValidateOptions vo{o.component, o.direction_as_trace};
  if (o.pairs) {
    std::vector<std::string> all{o.predicted};
    all.insert(all.end(), o.computed.begin(), o.computed.end());
    if (all.size() % 2) fail_usage("--pairs needs an even number of files: PREDICTED COMPUTED [PREDICTED COMPUTED ...]");
    for (std::size_t i = 0; i < all.size(); i += 2) entries.push_back(select::validate_pair(all[i], all[i + 1], vo));
  } else if (fs::is_directory(o.predicted)) {
    for (const auto& c : o.computed) entries.push_back(select::validate_pair(match_in_folder(o.predicted, c), c, vo));
  } else {
    require_exists(o.predicted);
    for (const auto& c : o.computed) entries.push_back(select::validate_pair(o.predicted, c, vo));
  }
  const auto report = select::make_report(std::move(entries));
  if (!o.plot.empty()) {
    select::PlotOptions po;
    po.max_spectrum_panels = o.panels;
    select::plot_validation(report, o.plot, po);
  }
  auto j = report.to_json();
  if (!o.plot.empty()) j["plot"] = o.plot;
  if (!o.json_out.empty()) {
    nlohmann::json out = j;
    out["provenance"] = output_provenance();
    write_text_atomically(o.json_out, out.dump(2) + "\n");
  }
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::string text = report.to_text();
    if (!o.plot.empty()) text += fmt::format("plot: {}\n", o.plot);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<ValidateCli>();
  auto* cmd = app.add_subcommand("validate", "SC/MSE/MAE of predicted against computed spectra, per material and aggregated");
  cmd->add_option("PREDICTED", o->predicted,
                  "Predicted spectrum (any format rung reads, or a `rung predict -o` file: the entry named like "
                  "each COMPUTED file's stem, or its only one), or a folder of them")->required();
  cmd->add_option("COMPUTED", o->computed, "Computed reference spectra (files, or folders standing for their files)")
      ->required();
  cmd->add_flag("--pairs", o->pairs, "Arguments are PREDICTED COMPUTED pairs");
  cmd->add_option("--component", o->component, "x, y, z, trace or q_a_b_c (rung files, epsilon.x); default trace/only");
  cmd->add_flag("--direction-as-trace", o->direction_as_trace,
                "Accept a one-direction spectrum (YAMBO o- file) as the trace: right for cubic crystals only");
  cmd->add_option("--plot", o->plot, "Figure (.png or .svg): spectra overlaid per material and the SC distribution");
  cmd->add_option("--panels", o->panels, "Most spectrum panels in the figure (lowest and highest SC beyond that)")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_option("--json-out", o->json_out, "Also write the JSON report to this file");
  cmd->callback([o, &action] { action = [o] { return run_validate(*o); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_validate
}  // namespace rung::cli
