// `rung info PATH [--json]`: what a ground-state run contains. PATH is a QE prefix.save folder (or its
// data-file-schema.xml, or a folder holding exactly one *.save), or a YAMBO SAVE folder (holds ns.db1).
// rung's own HDF5 files (models, data sets, spectra) are summarised from their metadata.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/hdf5_file.hpp"
#include "io/summary/summarize.hpp"
#include "io/yambo/summary.hpp"
#include "dataset/factory.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace rung::cli {
namespace cmd_info {  // this command's own names, distinct when the commands are compiled in one batch

namespace fs = std::filesystem;

struct InfoOptions {
  std::string path;
  bool json = false;
};

// rung's HDF5 files: model (metadata, training, metrics), data set (`rung dataset stats`), spectrum.
int info_rung_hdf5(const fs::path& path, bool as_json) {
  const nlohmann::json j = summarize_rung_file(path);
  const std::string format = j["format"].get<std::string>();
  std::string out;
  if (as_json) {
    out = j.dump(2) + "\n";
  } else if (format == "rung-optimate-dataset") {
    out = dataset::dataset_stats(path);
  } else {
    out = fmt::format("{}: {} v{}\n", path.string(), format, j["format_version"].get<std::int64_t>());
    for (const auto& [k, v] : j.items())
      if (k != "file" && k != "format" && k != "format_version")
        out += fmt::format("  {}: {}\n", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_info(const InfoOptions& o) {
  std::error_code ec;
  if (fs::is_regular_file(o.path, ec) && h5::has_hdf5_signature(o.path)) return info_rung_hdf5(o.path, o.json);
  const SystemSummary s = summarize_run(o.path);
  // Everything is computed before anything is printed: an error leaves stdout empty.
  const std::string out = o.json ? s.to_json().dump(2) + "\n" : s.to_text();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Summarise a QE prefix.save, a YAMBO SAVE folder or a rung HDF5 file");
  cmd->add_option("PATH", opts->path,
                  "QE prefix.save folder (or a folder holding one), YAMBO SAVE folder, or a rung model/data set/"
                  "spectrum file (.h5)")
      ->required();
  cmd->add_flag("--json", opts->json,
                "One JSON object: formula, natoms, volume_bohr3, nk, nk_full_bz, nbands, nelec, gap_indirect_eV, "
                "gap_direct_eV, ecutwfc_Ry, nsym, pseudopotentials, ...");
  cmd->callback([opts, &action] { action = [opts] { return run_info(*opts); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_info
}  // namespace rung::cli
