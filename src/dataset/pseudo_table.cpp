#include "dataset/pseudo_table.hpp"

#include "core/error.hpp"
#include "io/qe/upf.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
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
      // what the solver will refuse, and an electron count that would size the bands wrongly, found before any
      // pw.x run (each material would otherwise run its scf and nscf first)
      const auto h = upf::Pseudopotential::read_header(p.file);
      if (h.kind == qe::PseudoKind::ultrasoft || h.kind == qe::PseudoKind::paw)
        fail_input(path, fmt::format("element {}: {} is {}: rung's optics need norm-conserving pseudopotentials", el,
                                     p.file.string(), qe::to_string(h.kind)));
      if (h.relativistic_spin_orbit)
        fail_input(path, fmt::format("element {}: {} is fully relativistic (spin-orbit): the factory runs without "
                                     "spin-orbit, use a scalar-relativistic one",
                                     el, p.file.string()));
      if (h.z_valence > 0 && std::abs(h.z_valence - p.z_valence) > 1e-6)
        fail_input(path, fmt::format("element {}: z_valence {:g} in the table, {:g} in {}", el, p.z_valence,
                                     h.z_valence, p.file.string()));
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
