// `rung info PATH [--json]`: what a ground-state run contains. PATH is a QE prefix.save folder (or its
// data-file-schema.xml, or a folder holding exactly one *.save), or a YAMBO SAVE folder (holds ns.db1).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/qe_save.hpp"
#include "io/qe_summary.hpp"
#include "io/system_summary.hpp"

#if __has_include("io/yambo_summary.hpp")
#include "io/yambo_summary.hpp"
#define RUNG_HAVE_YAMBO_SUMMARY 1
#endif

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
#ifdef RUNG_HAVE_YAMBO_SUMMARY
    return rung::yambo::summarize(path);
#else
    fail_input(path, "YAMBO SAVE folders: reader not built yet");
#endif
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

int run_info(const InfoOptions& o) {
  const SystemSummary s = summarize_path(o.path);
  // Everything is computed before anything is printed: an error leaves stdout empty.
  const std::string out = o.json ? s.to_json().dump(2) + "\n" : s.to_text();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Summarise a QE prefix.save or a YAMBO SAVE folder");
  cmd->add_option("PATH", opts->path, "QE prefix.save folder (or a folder holding one) or YAMBO SAVE folder")
      ->required();
  cmd->add_flag("--json", opts->json,
                "One JSON object: formula, natoms, volume_bohr3, nk, nk_full_bz, nbands, nelec, gap_indirect_eV, "
                "gap_direct_eV, ecutwfc_Ry, nsym, pseudopotentials, ...");
  cmd->callback([opts, &action] { action = [opts] { return run_info(*opts); }; });
}

const CommandRegistrar registrar(setup);

}  // namespace
}  // namespace rung::cli
