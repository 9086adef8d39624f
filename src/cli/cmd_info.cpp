// `rung info PATH [--json]`: what a ground-state run contains. PATH is a QE prefix.save folder (or its
// data-file-schema.xml, or a folder holding exactly one *.save), or a YAMBO SAVE folder (holds ns.db1).
// rung's own HDF5 files (models, data sets, spectra) are summarised from their metadata, and a text spectrum rung
// reads (a YAMBO o- file, rung's own --yambo-text, epsilon.x, turbo_spectrum.x) from its header and its numbers.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"
#include "io/summary/summarize.hpp"
#include "io/yambo/summary.hpp"
#include "dataset/factory.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

// A text spectrum: its format and header fields, the grid, where the imaginary part of its quantity peaks (eps,
// or YAMBO's loss function eel or polarizability alpha, which their o- files hold in the same columns).
int info_text_spectrum(const fs::path& path, bool as_json) {
  const Spectrum s = read_any_spectrum(path);
  const std::string quantity = s.meta("observable").empty() ? std::string("eps") : s.meta("observable");
  const auto im = s.imag();
  const auto peak = std::size_t(std::max_element(im.begin(), im.end()) - im.begin());
  nlohmann::json j = {{"file", path.string()},
                      {"format", s.meta("format")},
                      {"component", spectrum_component(s)},
                      {"points", s.size()},
                      {"energy_eV", {{"min", s.energy_eV.front()}, {"max", s.energy_eV.back()}}},
                      {"quantity", quantity},
                      {"max_imag", {{"value", im[peak]}, {"energy_eV", s.energy_eV[peak]}}},
                      {"without_local_fields", s.eps_nolf.has_value()}};
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, v] : s.metadata)
    if (k != "format") fields[k] = v;
  j["metadata"] = fields;
  std::string out;
  if (as_json) {
    out = j.dump(2) + "\n";
  } else {
    out = fmt::format("{}: {} text spectrum, component {}\n", path.string(), s.meta("format"), spectrum_component(s));
    out += fmt::format("  {} points, {:g} to {:g} eV; max Im {} {:.4g} at {:.3f} eV{}\n", s.size(), s.energy_eV.front(),
                       s.energy_eV.back(), quantity, im[peak], s.energy_eV[peak],
                       s.eps_nolf ? "; also eps without local fields" : "");
    for (const auto& [k, v] : fields.items())
      out += fmt::format(
          "  {}: {}\n", k,
          v.get<std::string>().size() > 200 ? v.get<std::string>().substr(0, 200) + " ..." : v.get<std::string>());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// Whether a file's first character after white space (and a UTF-8 byte-order mark, which an editor may add) opens
// an XML document (QE's data-file-schema.xml).
bool starts_like_xml(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  char bom[3] = {};
  if (!f.read(bom, 3) || !(bom[0] == '\xEF' && bom[1] == '\xBB' && bom[2] == '\xBF')) {
    f.clear();
    f.seekg(0);
  }
  char c = 0;
  while (f.get(c) && std::isspace(static_cast<unsigned char>(c))) {}
  return f && c == '<';
}

int run_info(const InfoOptions& o) {
  std::error_code ec;
  if (fs::is_regular_file(o.path, ec) && h5::has_hdf5_signature(o.path)) return info_rung_hdf5(o.path, o.json);
  if (fs::is_regular_file(o.path, ec) && !starts_like_xml(o.path)) {
    const fs::path p = o.path;
    if (text_spectrum_format(p) != TextSpectrumFormat::none) return info_text_spectrum(p, o.json);
    fail_input(p,
               "not a QE save (or its data-file-schema.xml), a YAMBO SAVE, a rung HDF5 file or a text spectrum "
               "rung reads (YAMBO o- file, epsilon.x epsr_/epsi_*.dat, turbo_spectrum.x *.plot_eps.dat)");
  }
  const SystemSummary s = summarize_run(o.path);
  // Everything is computed before anything is printed: an error leaves stdout empty.
  const std::string out = o.json ? s.to_json().dump(2) + "\n" : s.to_text();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand(
      "info", "Summarise a QE prefix.save, a YAMBO SAVE folder, a rung HDF5 file or a text spectrum");
  cmd->add_option("PATH", opts->path,
                  "QE prefix.save folder (or a folder holding one), YAMBO SAVE folder, or a rung model/data set/"
                  "spectrum file (.h5), or a text spectrum (YAMBO o- file, epsilon.x, turbo_spectrum.x)")
      ->required();
  cmd->add_flag("--json", opts->json,
                "One JSON object: formula, natoms, volume_bohr3, nk, nk_full_bz, nbands, nelec, gap_indirect_eV, "
                "gap_direct_eV, ecutwfc_Ry, nsym, pseudopotentials, ...");
  cmd->callback([opts, &action] { action = [opts] { return run_info(*opts); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_info
}  // namespace rung::cli
