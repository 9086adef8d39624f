#include "io/structures/reader.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <fstream>

namespace rung {
namespace fs = std::filesystem;

StructureFormat parse_structure_format(const std::string& name) {
  const std::string n = lower(name);
  if (n == "auto" || n.empty()) return StructureFormat::automatic;
  if (n == "cif") return StructureFormat::cif;
  if (n == "poscar" || n == "vasp" || n == "contcar") return StructureFormat::poscar;
  if (n == "qe-save" || n == "save" || n == "xml") return StructureFormat::qe_save;
  if (n == "pw-input" || n == "pw" || n == "pwi") return StructureFormat::pw_input;
  if (n == "jsonl" || n == "json") return StructureFormat::json_lines;
  fail_usage(fmt::format("unknown structure format '{}' (cif, poscar, qe-save, pw-input, jsonl)", name));
}

std::string to_string(StructureFormat f) {
  switch (f) {
    case StructureFormat::automatic: return "auto";
    case StructureFormat::cif: return "cif";
    case StructureFormat::poscar: return "poscar";
    case StructureFormat::qe_save: return "qe-save";
    case StructureFormat::pw_input: return "pw-input";
    case StructureFormat::json_lines: return "jsonl";
  }
  return "?";
}

std::optional<StructureFormat> structure_format_from_name(const fs::path& path) {
  const std::string name = lower(path.filename().string());
  const std::string ext = lower(path.extension().string());
  if (ext == ".cif") return StructureFormat::cif;
  if (ext == ".jsonl" || ext == ".json") return StructureFormat::json_lines;
  if (ext == ".xml") return StructureFormat::qe_save;
  if (ext == ".vasp" || ext == ".poscar" || name.rfind("poscar", 0) == 0 || name.rfind("contcar", 0) == 0)
    return StructureFormat::poscar;
  if (ext == ".pwi" || ext == ".in") return StructureFormat::pw_input;
  return std::nullopt;
}

StructureFormat detect_structure_format(const fs::path& path) {
  require_exists(path);
  if (fs::is_directory(path)) return StructureFormat::qe_save;
  if (const auto f = structure_format_from_name(path)) return *f;
  // Sniff the content.
  std::ifstream in(path);
  if (!in) fail_input(path, "cannot open");
  std::string head, line;
  for (int i = 0; i < 40 && std::getline(in, line); ++i) head += lower(line) + "\n";
  if (head.find("&system") != std::string::npos || head.find("&control") != std::string::npos)
    return StructureFormat::pw_input;
  if (head.find("data_") != std::string::npos && head.find("_cell_length_a") != std::string::npos)
    return StructureFormat::cif;
  if (!head.empty() && head[0] == '{') return StructureFormat::json_lines;
  if (head.find("<qes:espresso") != std::string::npos) return StructureFormat::qe_save;
  fail_input(path, "cannot tell the structure format (use a .cif/.jsonl/.in extension, a POSCAR name or --format)");
}

bool is_structure_folder(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && !fs::exists(path / "data-file-schema.xml", ec);
}

std::vector<fs::path> structure_files_in(const fs::path& dir) {
  require_exists(dir);
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const bool save = e.is_directory(ec) && fs::exists(e.path() / "data-file-schema.xml", ec);
    if (save || (e.is_regular_file(ec) && structure_format_from_name(e.path()))) files.push_back(e.path());
  }
  if (ec) fail_input(dir, "cannot list the folder: " + ec.message());
  if (files.empty())
    fail_input(dir, "holds no structure files (*.cif, POSCAR*, *.vasp, *.in, *.pwi, *.jsonl, *.json, *.xml, QE saves)");
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Structure> read_structures(const fs::path& path, StructureFormat format) {
  require_exists(path);
  if (format == StructureFormat::automatic) format = detect_structure_format(path);
  switch (format) {
    case StructureFormat::cif: return {read_cif_structure(path)};
    case StructureFormat::poscar: return {read_poscar_structure(path)};
    case StructureFormat::qe_save: return {read_qe_save_structure(path)};
    case StructureFormat::pw_input: return {read_pw_input_structure(path)};
    case StructureFormat::json_lines: return read_json_lines_structures(path);
    case StructureFormat::automatic: break;
  }
  fail_input(path, "unknown structure format");
}

Structure read_structure(const fs::path& path, StructureFormat format) {
  auto all = read_structures(path, format);
  if (all.size() != 1) fail_input(path, fmt::format("holds {} structures where one was expected", all.size()));
  return std::move(all.front());
}

}  // namespace rung
