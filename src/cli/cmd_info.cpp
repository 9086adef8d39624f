// `rung info PATH [--json]`: what a ground-state run contains. PATH is a QE prefix.save folder (or its
// data-file-schema.xml, or a folder holding exactly one *.save), or a YAMBO SAVE folder (holds ns.db1).
// rung's own HDF5 files (models, data sets, spectra) are summarised from their metadata.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/hdf5_file.hpp"
#include "io/system_summary.hpp"
#include "io/yambo/summary.hpp"
#include "dataset/factory.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace rung::cli {
namespace {

namespace fs = std::filesystem;

struct InfoOptions {
  std::string path;
  bool json = false;
};

bool is_yambo_save(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_regular_file(p / "ns.db1", ec);
}

SystemSummary summarize_path(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail_input(path, "does not exist");
  if (is_yambo_save(path)) {
    return rung::yambo::summarize(path);
  }
  if (fs::is_directory(path, ec) && !fs::is_regular_file(path / "data-file-schema.xml", ec)) {
    // Neither a save nor a YAMBO SAVE: is there exactly one of either inside?
    bool has_qe = false;
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_directory(ec) && e.path().extension() == ".save") has_qe = true;
    if (!has_qe && is_yambo_save(path / "SAVE")) return summarize_path(path / "SAVE");
    if (!has_qe)
      fail_input(path, "neither a QE prefix.save folder (no data-file-schema.xml) nor a YAMBO SAVE folder (no ns.db1)");
  }
  return qe::summarize(qe::Save::read(path));
}

// rung's HDF5 files: model (metadata, training, metrics), data set (`rung dataset stats`), spectrum.
int info_rung_hdf5(const fs::path& path, bool as_json) {
  const auto f = h5::File::open(path);
  if (!f.has_attr("/", "format"))
    fail_input(path, "an HDF5 file without rung's \"format\" attribute: not a rung model, data set or spectrum file "
                     "(QE saves and YAMBO SAVE folders are given as folders)");
  const std::string format = f.attr_string("/", "format");
  nlohmann::json j = {{"file", path.string()}, {"format", format}, {"format_version", f.attr_int("/", "format_version")}};
  for (const char* key : {"rung_version", "created", "target", "training_dataset", "theory", "weights"})
    if (f.has_attr("/", key)) j[key] = f.attr_string("/", key);
  for (const char* key : {"architecture", "training", "metrics", "training_domain"})
    if (f.has_attr("/", key)) j[key] = nlohmann::json::parse(f.attr_string("/", key), nullptr, false);
  for (const char* key : {"ensemble_size", "untrained"})
    if (f.has_attr("/", key)) j[key] = f.attr_int("/", key);
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
  const SystemSummary s = summarize_path(o.path);
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

}  // namespace
}  // namespace rung::cli
