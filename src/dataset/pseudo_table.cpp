#include "dataset/pseudo_table.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace rung::dataset {

PseudoTable PseudoTable::load(const std::filesystem::path& dir) {
  const auto path = dir / "table.json";
  require_exists(path);
  std::ifstream in(path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    fail_input(path, std::string("not valid JSON: ") + e.what());
  }
  if (!j.contains("elements") || !j["elements"].is_object()) fail_input(path, "no \"elements\" object");
  PseudoTable t;
  t.dir_ = std::filesystem::absolute(dir);
  for (const auto& [el, e] : j["elements"].items()) {
    try {
      PseudoEntry p;
      p.element = el;
      p.file = t.dir_ / e.at("file").get<std::string>();
      p.ecutwfc_Ry = e.at("ecutwfc_Ry").get<double>();
      p.z_valence = e.at("z_valence").get<double>();
      if (!(p.ecutwfc_Ry > 0) || !(p.z_valence > 0))
        fail_input(path, fmt::format("element {}: ecutwfc_Ry and z_valence must be positive", el));
      if (!std::filesystem::exists(p.file))
        fail_input(path, fmt::format("element {}: pseudopotential {} does not exist", el, p.file.string()));
      t.entries_[el] = std::move(p);
    } catch (const nlohmann::json::exception& ex) {
      fail_input(path, fmt::format("element {}: {}", el, ex.what()));
    }
  }
  if (t.entries_.empty()) fail_input(path, "the table lists no elements");
  return t;
}

const PseudoEntry* PseudoTable::find(const std::string& element) const {
  auto it = entries_.find(element);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace rung::dataset
