#include "dataset/symmetry.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <fmt/format.h>
extern "C" {
#include <spglib.h>
}

namespace rung::dataset {

std::string crystal_system_of(int sg) {
  if (sg < 1 || sg > 230) fail(fmt::format("space group number {} out of range", sg));
  if (sg <= 2) return "triclinic";
  if (sg <= 15) return "monoclinic";
  if (sg <= 74) return "orthorhombic";
  if (sg <= 142) return "tetragonal";
  if (sg <= 167) return "trigonal";
  if (sg <= 194) return "hexagonal";
  return "cubic";
}

std::vector<char> field_directions(const std::string& cs) {
  if (cs == "cubic") return {'x'};
  if (cs == "tetragonal" || cs == "trigonal" || cs == "hexagonal") return {'x', 'z'};
  return {'x', 'y', 'z'};
}

SymmetryInfo analyse_symmetry(const Structure& s, double symprec, const std::string& origin) {
  const int n = static_cast<int>(s.size());
  // spglib: lattice vectors are COLUMNS; arrays need room for the conventional cell (4x atoms)
  double lattice[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lattice[i][j] = s.lattice(j, i);
  std::vector<double> pos(3 * 4 * static_cast<std::size_t>(n));
  std::vector<int> types(4 * static_cast<std::size_t>(n));
  for (int a = 0; a < n; ++a) {
    for (int i = 0; i < 3; ++i) pos[3 * a + i] = s.frac[a][i];
    types[a] = s.numbers[a];
  }
  SpglibDataset* ds = spg_get_dataset(lattice, reinterpret_cast<double(*)[3]>(pos.data()), types.data(), n, symprec);
  if (!ds) fail_input(origin, fmt::format("spglib cannot find the symmetry of {} (symprec {:g} Bohr)", s.id, symprec));
  SymmetryInfo info;
  info.spacegroup = ds->spacegroup_number;
  info.international = ds->international_symbol;
  spg_free_dataset(ds);
  info.crystal_system = crystal_system_of(info.spacegroup);
  info.directions = field_directions(info.crystal_system);
  // standardised primitive cell, idealised: rotates the unique axis onto z
  const int m = spg_standardize_cell(lattice, reinterpret_cast<double(*)[3]>(pos.data()), types.data(), n,
                                     /*to_primitive=*/1, /*no_idealize=*/0, symprec);
  if (m <= 0) fail_input(origin, fmt::format("spglib cannot standardise {}", s.id));
  Structure out;
  out.id = s.id;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out.lattice(j, i) = lattice[i][j];
  for (int a = 0; a < m; ++a) {
    Eigen::Vector3d f(pos[3 * a], pos[3 * a + 1], pos[3 * a + 2]);
    for (int i = 0; i < 3; ++i) f[i] -= std::floor(f[i] + 1e-12);
    out.frac.push_back(f);
    out.numbers.push_back(types[a]);
  }
  if (out.size() != s.size() && out.size() * 1 > s.size())
    fail(fmt::format("{}: spglib's primitive cell has {} atoms, more than the {} given", s.id, out.size(), s.size()));
  // the rotations of the standardised cell (for a k grid that maps onto itself, qe_runs.hpp symmetric_grid)
  {
    std::vector<int> rot(9 * 192);
    std::vector<double> trans(3 * 192);
    const int nop =
        spg_get_symmetry(reinterpret_cast<int(*)[3][3]>(rot.data()), reinterpret_cast<double(*)[3]>(trans.data()), 192,
                         lattice, reinterpret_cast<double(*)[3]>(pos.data()), types.data(), m, symprec);
    for (int o = 0; o < nop; ++o) {
      Eigen::Matrix3i r;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) r(i, j) = rot[std::size_t(9 * o + 3 * i + j)];
      if (std::find(info.rotations.begin(), info.rotations.end(), r) == info.rotations.end())
        info.rotations.push_back(r);
    }
  }
  info.standardized = std::move(out);
  return info;
}

}  // namespace rung::dataset
