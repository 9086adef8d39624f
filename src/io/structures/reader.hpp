#pragma once
// Crystal structures from the files users have: CIF (symmetry expanded as pymatgen does), VASP
// POSCAR/CONTCAR, QE prefix.save (data-file-schema.xml), pw.x input files and JSON lines (one
// structure per line, the format of ../shared/structures/alexandria_main_group.jsonl).
// Every reader returns Bohr lattices (rows) and fractional coordinates; none of them validates
// chemistry: callers run Structure::validate (and the model's element check) on the result.
#include "core/structure.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rung {

enum class StructureFormat { automatic, cif, poscar, qe_save, pw_input, json_lines };

// "cif", "poscar", "qe-save", "pw-input", "jsonl" (and "auto"); unknown names are a usage error.
StructureFormat parse_structure_format(const std::string& name);
std::string to_string(StructureFormat);

// Guesses the format from the name (structure_format_from_name; a folder is a QE save) and, failing
// that, from the first lines of the file.
StructureFormat detect_structure_format(const std::filesystem::path& path);
// The format a file's name says (*.cif, POSCAR*, CONTCAR*, *.vasp, *.poscar, *.xml, *.jsonl/*.json,
// *.in/*.pwi), without reading it; nullopt when the name says nothing.
std::optional<StructureFormat> structure_format_from_name(const std::filesystem::path& path);

// A folder of structure files rather than a QE save: a directory without data-file-schema.xml.
bool is_structure_folder(const std::filesystem::path& path);
// The structures a folder holds, for commands that take one: its files whose names say a format and
// its QE saves (folders with data-file-schema.xml), sorted by name, not recursive. A folder with none
// of them is an input error naming it.
std::vector<std::filesystem::path> structure_files_in(const std::filesystem::path& dir);

// Reads every structure in `path` (one for all formats but JSON lines). Each structure's `id` is the
// material id where the file has one (CIF data block, JSON "id"), else the file name.
std::vector<Structure> read_structures(const std::filesystem::path& path,
                                       StructureFormat format = StructureFormat::automatic);
// The single structure of `path`; a multi-structure file is an input error.
Structure read_structure(const std::filesystem::path& path, StructureFormat format = StructureFormat::automatic);

// The individual readers (used by read_structures; exposed for tests).
Structure read_cif_structure(const std::filesystem::path& path);
Structure read_poscar_structure(const std::filesystem::path& path);
Structure read_qe_save_structure(const std::filesystem::path& path);  // folder or its XML
Structure read_pw_input_structure(const std::filesystem::path& path);
std::vector<Structure> read_json_lines_structures(const std::filesystem::path& path);
// One JSON object in either the jsonl layout {"id","lattice","species","frac_coords"} or pymatgen's
// Structure.as_dict() layout {"lattice":{"matrix"},"sites":[{"species":[{"element"}],"abc"}]}.
// `origin` names the file (and line) in errors.
Structure structure_from_json_text(const std::string& text, const std::string& origin);

// QE's Bravais lattice generator (latgen.f90) for ibrav = 1..14 and the negative variants; celldm as
// in pw.x (celldm[0] = alat in Bohr). Rows are the lattice vectors in Bohr. Unsupported ibrav or
// inconsistent celldm -> fail_input(origin, ...).
Eigen::Matrix3d qe_bravais_lattice(int ibrav, const double celldm[6], const std::string& origin);

}  // namespace rung
