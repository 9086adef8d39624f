#pragma once
// rung's pseudopotential table (share/pseudo/table.json, written by tools/make_pseudos.sh): per element
// the UPF file, the recommended ecutwfc and the valence charge. The data-set factory picks files and
// cutoffs from it; doc/pseudopotentials.md documents how the table was made and validated.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace rung::dataset {

struct PseudoEntry {
  std::string element;
  std::filesystem::path file;  // absolute
  double ecutwfc_Ry = 0;
  double z_valence = 0;
};

class PseudoTable {
public:
  // Reads DIR/table.json and checks that every listed UPF exists (fail_input naming the file).
  static PseudoTable load(const std::filesystem::path& dir);
  const std::filesystem::path& dir() const { return dir_; }
  // nullptr if the table has no pseudopotential for `element`.
  const PseudoEntry* find(const std::string& element) const;
  std::size_t size() const { return entries_.size(); }

private:
  std::filesystem::path dir_;
  std::map<std::string, PseudoEntry> entries_;
};

}  // namespace rung::dataset
