// JSON structures: the JSON-lines layout of ../shared/structures/alexandria_main_group.jsonl
// ({"id","lattice" (rows, Angstrom),"species","frac_coords"}) and pymatgen's Structure.as_dict().
#include "io/structures/reader.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace rung {
namespace {

using json = nlohmann::json;

Eigen::Vector3d vec3(const json& j, const std::string& origin, const char* what) {
  if (!j.is_array() || j.size() != 3) fail_input(origin, fmt::format("{} must be a list of 3 numbers", what));
  Eigen::Vector3d v;
  for (int k = 0; k < 3; ++k) {
    if (!j[k].is_number()) fail_input(origin, fmt::format("{} must be a list of 3 numbers", what));
    v[k] = j[k].get<double>();
  }
  return v;
}

Eigen::Matrix3d matrix_rows(const json& j, const std::string& origin) {
  if (!j.is_array() || j.size() != 3) fail_input(origin, "lattice must be 3 rows of 3 numbers (Angstrom)");
  Eigen::Matrix3d m;
  for (int r = 0; r < 3; ++r) m.row(r) = vec3(j[r], origin, "lattice row").transpose();
  return m;
}

int element(const json& j, const std::string& origin) {
  if (!j.is_string()) fail_input(origin, "species must be element symbols");
  const int z = elements::atomic_number(j.get<std::string>());
  if (z == 0) fail_input(origin, fmt::format("unknown element '{}'", j.get<std::string>()));
  return z;
}

}  // namespace

Structure structure_from_json_text(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    fail_input(origin, fmt::format("invalid JSON: {}", e.what()));
  }
  if (!j.is_object()) fail_input(origin, "expected a JSON object");
  Structure s;
  if (j.contains("id") && j["id"].is_string()) s.id = j["id"].get<std::string>();
  const json* st = &j;
  if (j.contains("structure") && j["structure"].is_object()) st = &j["structure"];  // ComputedStructureEntry
  if (st->contains("sites")) {  // pymatgen Structure.as_dict()
    // every key checked before it is read: a const json's operator[] on a missing key is undefined behaviour
    if (!st->contains("lattice") || !st->at("lattice").is_object() || !st->at("lattice").contains("matrix"))
      fail_input(origin, "pymatgen structure without lattice.matrix");
    s.lattice = units::Ang_to_Bohr(1.0) * matrix_rows(st->at("lattice").at("matrix"), origin);
    if (!st->at("sites").is_array()) fail_input(origin, "pymatgen structure whose 'sites' is not a list");
    for (const json& site : st->at("sites")) {
      if (!site.is_object() || !site.contains("species") || !site["species"].is_array() || site["species"].size() != 1)
        fail_input(origin, "every site needs exactly one species (disorder is not supported)");
      const json& sp = site["species"][0];
      if (!sp.is_object() || !sp.contains("element")) fail_input(origin, "a site's species without 'element'");
      if (sp.contains("occu") && (!sp["occu"].is_number() || std::abs(sp["occu"].get<double>() - 1.0) > 1e-3))
        fail_input(origin, "partially occupied site, or an occupancy that is not a number (disorder is not supported)");
      if (!site.contains("abc")) fail_input(origin, "a site without fractional coordinates 'abc'");
      s.numbers.push_back(element(sp["element"], origin));
      s.frac.push_back(vec3(site["abc"], origin, "site abc"));
    }
  } else {
    for (const char* key : {"lattice", "species", "frac_coords"})
      if (!j.contains(key)) fail_input(origin, fmt::format("missing key '{}'", key));
    s.lattice = units::Ang_to_Bohr(1.0) * matrix_rows(j["lattice"], origin);
    const json& sp = j["species"];
    const json& fc = j["frac_coords"];
    if (!sp.is_array() || !fc.is_array() || sp.size() != fc.size())
      fail_input(origin, "species and frac_coords must be lists of equal length");
    for (std::size_t i = 0; i < sp.size(); ++i) {
      s.numbers.push_back(element(sp[i], origin));
      s.frac.push_back(vec3(fc[i], origin, "frac_coords entry"));
    }
  }
  if (s.numbers.empty()) fail_input(origin, "structure has no atoms");
  return s;
}

std::vector<Structure> read_json_lines_structures(const std::filesystem::path& path) {
  require_exists(path);
  std::ifstream in(path);
  if (!in) fail_input(path, "cannot open");
  std::string first;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Structure> out;
  // A single pretty-printed JSON object (pymatgen as_dict dump) is one structure.
  const auto start = all.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) fail_input(path, "empty file");
  std::size_t pos = 0;
  int line_no = 0;
  bool single_object = false;
  {
    const auto nl = all.find('\n', start);
    const std::string line = all.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    single_object = !nlohmann::json::accept(line) && nlohmann::json::accept(all);
  }
  if (single_object) {
    Structure s = structure_from_json_text(all, path.string());
    if (s.id.empty()) s.id = path.stem().string();
    out.push_back(std::move(s));
    return out;
  }
  while (pos < all.size()) {
    auto nl = all.find('\n', pos);
    if (nl == std::string::npos) nl = all.size();
    ++line_no;
    const std::string line = all.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Structure s = structure_from_json_text(line, fmt::format("{}:{}", path.string(), line_no));
    if (s.id.empty()) s.id = fmt::format("{}:{}", path.filename().string(), line_no);
    out.push_back(std::move(s));
  }
  if (out.empty()) fail_input(path, "no structures");
  return out;
}

}  // namespace rung
