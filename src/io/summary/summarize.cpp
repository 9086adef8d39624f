// Which reader summarises a run or a rung file: the one place in io that knows every format folder.
#include "io/summary/summarize.hpp"

#include "core/error.hpp"
#include "io/hdf5_file.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/yambo/summary.hpp"

#include <filesystem>
#include <string>
#include <utility>

namespace rung {

namespace {
bool is_yambo_save(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec) && std::filesystem::is_regular_file(p / "ns.db1", ec);
}
}  // namespace

SystemSummary summarize_run(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail_missing(path);
  if (is_yambo_save(path)) return yambo::summarize(path);
  if (fs::is_directory(path, ec) && !fs::is_regular_file(path / "data-file-schema.xml", ec)) {
    // Neither a save nor a YAMBO SAVE: is there exactly one of either inside?
    bool has_qe = false;
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_directory(ec) && e.path().extension() == ".save") has_qe = true;
    if (!has_qe && is_yambo_save(path / "SAVE")) return summarize_run(path / "SAVE");
    if (!has_qe)
      fail_input(path, "neither a QE prefix.save folder (no data-file-schema.xml) nor a YAMBO SAVE folder (no ns.db1)");
  }
  return qe::summarize(qe::Save::read(path));
}

nlohmann::json summarize_rung_file(const std::filesystem::path& path) {
  require_exists(path);
  const auto f = h5::File::open(path);
  if (!f.has_attr("/", "format"))
    fail_input(path,
               "an HDF5 file without rung's \"format\" attribute: not a rung model, data set or spectrum file "
               "(QE saves and YAMBO SAVE folders are given as folders)");
  nlohmann::json j = {{"file", path.string()},
                      {"format", f.attr_string("/", "format")},
                      {"format_version", f.attr_int("/", "format_version")}};
  for (const char* key : {"rung_version", "created", "target", "training_dataset", "theory", "weights"})
    if (f.has_attr("/", key)) j[key] = f.attr_string("/", key);
  for (const char* key : {"architecture", "training", "metrics", "training_domain"})
    if (f.has_attr("/", key)) {
      auto v = nlohmann::json::parse(f.attr_string("/", key), nullptr, false);
      if (v.is_discarded()) fail_input(path, std::string("attribute '") + key + "' is not valid JSON");
      j[key] = std::move(v);
    }
  for (const char* key : {"ensemble_size", "untrained"})
    if (f.has_attr("/", key)) j[key] = f.attr_int("/", key);
  return j;
}

}  // namespace rung
