// CIF -> Structure with gemmi. The CIF's symmetry operations are applied to the listed sites and
// duplicates merged the way pymatgen's CifParser does (site tolerance 1e-4 in fractional coordinates,
// periodic), so that a symmetrised CIF gives the same conventional cell pymatgen (and hence the
// OPTIMATE authors) used.
#include "io/structures/reader.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

#include <gemmi/cif.hpp>
#include <gemmi/smcif.hpp>  // src/io/CMakeLists.txt silences its #warning (see there)
#include <gemmi/symmetry.hpp>

#include <cmath>
#include <fmt/format.h>

namespace rung {
namespace {

constexpr double kSiteTolerance = 1e-4;  // pymatgen CifParser default

Eigen::Vector3d wrap(Eigen::Vector3d f) {
  for (int k = 0; k < 3; ++k) {
    f[k] -= std::floor(f[k]);
    if (f[k] >= 1.0) f[k] = 0.0;
  }
  return f;
}

// pymatgen's in_coord_list_pbc: every component equal modulo 1 within atol.
bool same_site(const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  for (int k = 0; k < 3; ++k) {
    double d = a[k] - b[k];
    d -= std::round(d);
    if (std::abs(d) > kSiteTolerance) return false;
  }
  return true;
}

std::vector<gemmi::Op> symmetry_operations(gemmi::cif::Block& block, const gemmi::SmallStructure& st,
                                           const std::filesystem::path& path) {
  std::vector<gemmi::Op> ops;
  for (const char* tag : {"_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz",
                          "_space_group_symop.operation_xyz"}) {
    gemmi::cif::Column col = block.find_values(tag);
    if (!col) continue;
    for (const std::string& v : col) {
      const std::string triplet = gemmi::cif::as_string(v);
      try {
        ops.push_back(gemmi::parse_triplet(triplet));
      } catch (const std::exception& e) {
        fail_input(path, fmt::format("cannot parse symmetry operation '{}': {}", triplet, e.what()));
      }
    }
    if (!ops.empty()) return ops;
  }
  // No explicit operations: fall back to the space-group name, else P1.
  if (!st.spacegroup_hm.empty()) {
    const gemmi::SpaceGroup* sg = st.find_spacegroup();
    if (!sg) fail_input(path, fmt::format("unknown space group '{}' and no symmetry operations listed", st.spacegroup_hm));
    for (const gemmi::Op& op : sg->operations()) ops.push_back(op);
    return ops;
  }
  // then the Hall symbol, which fixes the setting too
  for (const char* tag : {"_space_group_name_Hall", "_symmetry_space_group_name_Hall", "_space_group.name_Hall"})
    if (const std::string* v = block.find_value(tag); v && !gemmi::cif::is_null(*v)) {
      const std::string hall = gemmi::cif::as_string(*v);
      try {
        for (const gemmi::Op& op : gemmi::symops_from_hall(hall.c_str())) ops.push_back(op);
      } catch (const std::exception& e) {
        fail_input(path, fmt::format("cannot read the Hall symbol '{}': {}", hall, e.what()));
      }
      return ops;
    }
  // a space-group number alone does not fix the setting (origin, axes): refused unless it is P1, whose asymmetric
  // unit is the cell (read as P1 otherwise, the cell would lack every atom the symmetry makes)
  for (const char* tag : {"_space_group_IT_number", "_symmetry_Int_Tables_number", "_space_group.IT_number"})
    if (const std::string* v = block.find_value(tag); v && !gemmi::cif::is_null(*v) && gemmi::cif::as_string(*v) != "1")
      fail_input(path, fmt::format("gives space group {} by its number alone ({}), without symmetry operations, an "
                                   "H-M or a Hall symbol: its atoms cannot be completed",
                                   gemmi::cif::as_string(*v), tag));
  ops.push_back(gemmi::Op::identity());
  return ops;
}

}  // namespace

Structure read_cif_structure(const std::filesystem::path& path) {
  require_exists(path);
  gemmi::cif::Document doc;
  try {
    doc = gemmi::cif::read_file(path.string());
  } catch (const std::exception& e) {
    fail_input(path, fmt::format("not a readable CIF: {}", e.what()));
  }
  if (doc.blocks.empty()) fail_input(path, "CIF has no data block");
  gemmi::cif::Block& block = doc.blocks.front();
  gemmi::SmallStructure st;
  try {
    st = gemmi::make_small_structure_from_block(block);
  } catch (const std::exception& e) {
    fail_input(path, fmt::format("malformed CIF: {}", e.what()));
  }
  if (!st.cell.is_crystal()) fail_input(path, "CIF has no complete unit cell (_cell_length_a/b/c, angles): not periodic");
  if (st.sites.empty()) fail_input(path, "CIF lists no atoms (_atom_site_fract_x/y/z)");

  const std::vector<gemmi::Op> ops = symmetry_operations(block, st, path);

  Structure s;
  s.id = block.name.empty() ? path.stem().string() : block.name;
  // gemmi's orthogonalisation matrix has the lattice vectors as columns (a along x).
  const gemmi::Mat33& m = st.cell.orth.mat;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) s.lattice(r, c) = units::Ang_to_Bohr(m[c][r]);

  for (const auto& site : st.sites) {
    if (std::isnan(site.fract.x) || std::isnan(site.fract.y) || std::isnan(site.fract.z))
      fail_input(path, fmt::format("site '{}' has no fractional coordinates", site.label));
    if (std::abs(site.occ - 1.0) > 1e-3)
      fail_input(path, fmt::format("site '{}' has occupancy {} (disordered structures are not supported)",
                                   site.label, site.occ));
    const int z = elements::atomic_number(site.type_symbol.empty() ? site.label : site.type_symbol);
    if (z == 0) fail_input(path, fmt::format("site '{}': unknown element '{}'", site.label, site.type_symbol));
    std::vector<Eigen::Vector3d> orbit;
    for (const gemmi::Op& op : ops) {
      const auto xyz = op.apply_to_xyz({site.fract.x, site.fract.y, site.fract.z});
      const Eigen::Vector3d f = wrap({xyz[0], xyz[1], xyz[2]});
      bool dup = false;
      for (const auto& g : orbit) dup = dup || same_site(f, g);
      if (!dup) orbit.push_back(f);
    }
    for (const auto& f : orbit) {
      s.frac.push_back(f);
      s.numbers.push_back(z);
    }
  }
  return s;
}

}  // namespace rung
