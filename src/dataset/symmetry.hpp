#pragma once
// Crystal system and the field directions the dielectric tensor's trace needs (doc/dataset.md):
// cubic -> x; tetragonal, trigonal, hexagonal (uniaxial, unique axis along z) -> x, z; else x, y, z.
// The shortcut is only valid in spglib's standardised orientation (unique axis along z), so the factory
// runs QE on spglib's standardised primitive cell, as the paper's workflow did.
#include "core/structure.hpp"

#include <array>
#include <Eigen/Core>
#include <string>
#include <vector>

namespace rung::dataset {

struct SymmetryInfo {
  int spacegroup = 0;             // 1..230
  std::string international;      // e.g. "Fd-3m"
  std::string crystal_system;     // triclinic ... cubic
  Structure standardized;         // spglib standardised primitive cell (Bohr), same id
  std::vector<char> directions;   // 'x', 'y', 'z' to compute
  // the point-group rotations of `standardized`, in its crystal coordinates (x' = R x of the fractional positions)
  std::vector<Eigen::Matrix3i> rotations;
};

std::string crystal_system_of(int spacegroup);
std::vector<char> field_directions(const std::string& crystal_system);
// symprec in Bohr. A structure spglib cannot analyse is fail_input(origin, ...).
SymmetryInfo analyse_symmetry(const Structure& s, double symprec_bohr, const std::string& origin);

}  // namespace rung::dataset
