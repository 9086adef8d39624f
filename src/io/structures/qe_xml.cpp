// The cell and atoms of a QE prefix.save/data-file-schema.xml (the output section's final structure,
// else the input's). Only what the model needs; rung::qe::Save::read is the full reader of the folder.
#include "io/structures/reader.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/text.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

namespace rung {
namespace {

// Exactly three numbers (a vector with more is as malformed as one with fewer).
Eigen::Vector3d vector_text(const pugi::xml_node& node, const std::filesystem::path& path, const char* what) {
  const auto words = split_words(node.child_value());
  if (words.size() != 3)
    fail_input(path, fmt::format("malformed {} in the XML: {} values where 3 are expected", what, words.size()));
  Eigen::Vector3d v;
  for (int k = 0; k < 3; ++k)
    if (!parse_number(words[std::size_t(k)], v[k]))
      fail_input(path, fmt::format("malformed {} in the XML: '{}' is not a number", what, words[std::size_t(k)]));
  return v;
}

std::filesystem::path locate_xml(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return path;
  if (fs::exists(path / "data-file-schema.xml")) return path / "data-file-schema.xml";
  // A folder holding exactly one prefix.save.
  std::vector<fs::path> saves;
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_directory() && e.path().extension() == ".save") saves.push_back(e.path());
  if (saves.size() == 1 && fs::exists(saves[0] / "data-file-schema.xml")) return saves[0] / "data-file-schema.xml";
  fail_input(path, "not a QE prefix.save folder (no data-file-schema.xml)");
}

}  // namespace

Structure read_qe_save_structure(const std::filesystem::path& input) {
  require_exists(input);
  const auto path = locate_xml(input);
  pugi::xml_document doc;
  const auto ok = doc.load_file(path.c_str());
  if (!ok) fail_input(path, fmt::format("not readable XML: {}", ok.description()));
  const pugi::xml_node root = doc.document_element();
  pugi::xml_node st = root.child("output").child("atomic_structure");
  if (!st) st = root.child("input").child("atomic_structure");
  if (!st) fail_input(path, "no atomic_structure in the XML (not a QE data-file-schema.xml?)");
  const pugi::xml_node cell = st.child("cell");
  if (!cell) fail_input(path, "atomic_structure has no cell");
  Structure s;
  // "si.save/" names the folder si.save: its filename is empty until the trailing separator goes.
  std::filesystem::path named = input.lexically_normal();
  if (named.filename().empty() && named.has_parent_path()) named = named.parent_path();
  s.id = named.filename().string();
  s.lattice.row(0) = vector_text(cell.child("a1"), path, "a1").transpose();  // Bohr
  s.lattice.row(1) = vector_text(cell.child("a2"), path, "a2").transpose();
  s.lattice.row(2) = vector_text(cell.child("a3"), path, "a3").transpose();
  const Eigen::Matrix3d to_frac = s.lattice.transpose().inverse();
  const pugi::xml_node positions = st.child("atomic_positions");
  if (!positions) {
    if (st.child("wyckoff_positions")) fail_input(path, "wyckoff_positions (crystal_sg) are not supported");
    fail_input(path, "atomic_structure has no atomic_positions");
  }
  for (const pugi::xml_node atom : positions.children("atom")) {
    const std::string name = atom.attribute("name").as_string();
    const int z = elements::atomic_number_of_label(name);
    if (z == 0) fail_input(path, fmt::format("species '{}' does not start with an element symbol", name));
    s.numbers.push_back(z);
    s.frac.push_back(to_frac * vector_text(atom, path, "atom position"));  // Cartesian Bohr in the XML
  }
  const int nat = st.attribute("nat").as_int(-1);
  if (nat >= 0 && nat != int(s.numbers.size()))
    fail_input(path, fmt::format("nat = {} but {} atoms listed", nat, s.numbers.size()));
  if (s.numbers.empty()) fail_input(path, "no atoms");
  return s;
}

}  // namespace rung
