#include "io/yambo/db1.hpp"

#include "core/error.hpp"
#include "core/units.hpp"
#include "io/yambo/netcdf.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung::yambo {
namespace {

// Single-precision databases store 0.9999999 for 1 and 0.8660254 for √3/2: snap such entries.
double snap_symmetry_entry(double x) {
  static const double targets[] = {0.0, 0.5, 1.0, std::sqrt(3.0) / 2.0};
  for (double t : targets)
    if (std::abs(std::abs(x) - t) < 1e-5) return std::copysign(t, x);
  return x;
}

int as_count(const NcFile& f, const std::vector<double>& dims, std::size_t one_based, const char* what, int lo,
             int hi) {
  const double v = dims[one_based - 1];
  if (!(v >= lo && v <= hi) || v != std::floor(v))
    f.fail_var("DIMENSIONS", fmt::format("entry {} ({}) = {} is out of range [{}, {}]", one_based, what, v, lo, hi));
  return int(v);
}

}  // namespace

std::size_t Db1::natoms() const {
  std::size_t n = 0;
  for (const auto& s : atom_pos) n += s.size();
  return n;
}

Eigen::Vector3d Db1::iku_to_cartesian(const Eigen::Vector3d& v) const {
  return {v[0] * units::two_pi / alat[0], v[1] * units::two_pi / alat[1], v[2] * units::two_pi / alat[2]};
}

Eigen::Vector3i Db1::g_miller(int ig) const {
  const Eigen::Vector3d r = lattice * g_cartesian(ig) / units::two_pi;
  return {int(std::lround(r[0])), int(std::lround(r[1])), int(std::lround(r[2]))};
}

Eigen::Vector3d Db1::k_crystal(int ik) const { return lattice * k_cartesian(ik) / units::two_pi; }

double Db1::volume() const { return std::abs(lattice.determinant()); }

int Db1::n_occupied_insulator() const {
  return int(std::lround(nelec * double(n_spinor) / 2.0)) - 1;
}

Structure Db1::structure() const {
  Structure s;
  s.lattice = lattice;
  const Eigen::Matrix3d to_frac = lattice.transpose().inverse();  // cart = lattice^T · frac
  for (std::size_t is = 0; is < atom_pos.size(); ++is)
    for (const auto& r : atom_pos[is]) {
      s.frac.push_back(to_frac * r);
      s.numbers.push_back(species_z[is]);
    }
  s.id = path.string();
  return s;
}

Db1 read_db1(const std::filesystem::path& given) {
  const auto path = std::filesystem::is_directory(given) ? given / "ns.db1" : given;
  auto f = NcFile::open(path);
  Db1 db;
  db.path = path;

  const auto dims = f.read_double("DIMENSIONS");
  if (dims.size() < 15) f.fail_var("DIMENSIONS", fmt::format("has {} entries, expected at least 15", dims.size()));
  db.version = {as_count(f, dims, 2, "major version", 0, 100), as_count(f, dims, 3, "minor version", 0, 100),
                as_count(f, dims, 4, "patch version", 0, 100)};
  db.revision = as_count(f, dims, 5, "revision", 0, 1 << 30);
  db.nbands = as_count(f, dims, 6, "bands", 1, 1 << 20);
  db.nk = as_count(f, dims, 7, "k-points", 1, 1 << 24);
  db.ng = as_count(f, dims, 8, "G-vectors", 1, 1 << 28);
  db.wf_ncx = as_count(f, dims, 9, "max WF components", 1, 1 << 28);
  const int i_time_rev = as_count(f, dims, 10, "time reversal flag", 0, 1);
  const int nsym = as_count(f, dims, 11, "symmetries", 1, 96);
  db.n_spinor = as_count(f, dims, 12, "spinor components", 1, 2);
  db.n_sp_pol = as_count(f, dims, 13, "spin polarisations", 1, 2);
  db.temperature_Ha = dims[13];
  if (!(db.temperature_Ha >= 0 && db.temperature_Ha < 1)) f.fail_var("DIMENSIONS", "temperature (entry 14) out of range");
  db.nelec = dims[14];
  // each band holds 2 electrons, 1 with spinors; lsda's nbands is per spin channel, 1 electron each: 2 nbands too
  if (!(db.nelec > 0 && db.nelec <= (db.n_spinor == 2 ? 1.0 : 2.0) * db.nbands + 1e-6))
    f.fail_var("DIMENSIONS", fmt::format("number of electrons (entry 15) = {} is impossible with {} bands", db.nelec,
                                         db.nbands));
  db.time_reversal = i_time_rev == 1;
  if (db.time_reversal && nsym % 2 != 0)
    f.fail_var("DIMENSIONS", fmt::format("{} symmetries with time reversal: must be even (doubled list)", nsym));
  // mag_syms (YAMBO 5, a logical stored as a number) is set for a magnetic run whose symmetry operations include
  // ones combined with time reversal: rung would unfold them as plain rotations (or as −R), which they are not.
  if (f.has("mag_syms"))
    for (double v : f.read_double("mag_syms"))
      if (v != 0)
        f.fail_var("mag_syms",
                   "is set: the symmetries are magnetic ones, some combined with time reversal, which "
                   "rung does not unfold");

  const auto wfg = f.read_integral("WF_G_COMPONENTS", {1});
  if (wfg[0] < 1 || wfg[0] > db.ng)
    f.fail_var("WF_G_COMPONENTS", fmt::format("{} is outside 1..{} (number of G-vectors)", wfg[0], db.ng));
  db.wf_ng = int(wfg[0]);

  const auto alat = f.read_double("LATTICE_PARAMETER", {3});
  for (int i = 0; i < 3; ++i) {
    if (!(alat[std::size_t(i)] > 0)) f.fail_var("LATTICE_PARAMETER", "must be positive");
    db.alat[i] = alat[std::size_t(i)];
  }
  // Fortran a(i,j) = component j of lattice vector i is C[j][i].
  const auto lv = f.read_double("LATTICE_VECTORS", {3, 3});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) db.lattice(i, j) = lv[std::size_t(j * 3 + i)];
  if (!(db.volume() > 1e-6)) f.fail_var("LATTICE_VECTORS", "degenerate cell (zero volume)");

  const auto zs = f.read_integral("atomic_numbers");
  const std::size_t nspecies = zs.size();
  if (nspecies == 0) f.fail_var("atomic_numbers", "no species");
  const auto natoms = f.read_integral("N_ATOMS", {nspecies});
  const Shape pos_shape = f.shape("ATOM_POS");
  if (pos_shape.size() != 3 || pos_shape[0] != nspecies || pos_shape[2] != 3)
    f.fail_var("ATOM_POS", fmt::format("shape {} where ({}, natmax, 3) was expected", shape_string(pos_shape), nspecies));
  const std::size_t natmax = pos_shape[1];
  const auto pos = f.read_double("ATOM_POS", pos_shape);
  db.species_z.resize(nspecies);
  db.atom_pos.resize(nspecies);
  for (std::size_t is = 0; is < nspecies; ++is) {
    if (zs[is] < 1 || zs[is] > 118) f.fail_var("atomic_numbers", fmt::format("Z = {} is not an element", zs[is]));
    if (natoms[is] < 1 || std::size_t(natoms[is]) > natmax)
      f.fail_var("N_ATOMS", fmt::format("species {} has {} atoms (max {})", is + 1, natoms[is], natmax));
    db.species_z[is] = int(zs[is]);
    for (long long ia = 0; ia < natoms[is]; ++ia) {
      const std::size_t o = (is * natmax + std::size_t(ia)) * 3;
      db.atom_pos[is].emplace_back(pos[o], pos[o + 1], pos[o + 2]);
    }
  }

  // SYMMETRY: Fortran dl_sop(i,j,is) -> C[is][j][i].
  const auto sym = f.read_double("SYMMETRY", {std::size_t(nsym), 3, 3});
  db.symmetries.resize(std::size_t(nsym));
  for (int is = 0; is < nsym; ++is) {
    Eigen::Matrix3d R;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) R(i, j) = snap_symmetry_entry(sym[std::size_t(is * 9 + j * 3 + i)]);
    if (std::abs(std::abs(R.determinant()) - 1.0) > 1e-4 || !(R * R.transpose()).isIdentity(1e-4))
      f.fail_var("SYMMETRY", fmt::format("operation {} is not orthogonal", is + 1));
    db.symmetries[std::size_t(is)] = R;
  }

  const std::size_t ng = std::size_t(db.ng), nk = std::size_t(db.nk), nb = std::size_t(db.nbands);
  const auto g = f.read_double("G-VECTORS", {3, ng});
  db.g_iku.resize(ng);
  for (std::size_t ig = 0; ig < ng; ++ig) db.g_iku[ig] = {g[ig], g[ng + ig], g[2 * ng + ig]};
  const auto k = f.read_double("K-POINTS", {3, nk});
  db.k_iku.resize(nk);
  for (std::size_t ik = 0; ik < nk; ++ik) db.k_iku[ik] = {k[ik], k[nk + ik], k[2 * nk + ik]};

  db.eigenvalues_Ha = f.read_double("EIGENVALUES", {std::size_t(db.n_sp_pol), nk, nb});
  for (double e : db.eigenvalues_Ha)
    if (std::abs(e) > 1e4) f.fail_var("EIGENVALUES", fmt::format("{} Ha is not a plausible KS energy", e));

  const auto wng = f.read_integral("WFC_NG", {nk});
  db.wfc_ng.resize(nk);
  for (std::size_t ik = 0; ik < nk; ++ik) {
    if (wng[ik] < 1 || wng[ik] > db.wf_ncx)
      f.fail_var("WFC_NG", fmt::format("k-point {}: {} components (max {})", ik + 1, wng[ik], db.wf_ncx));
    db.wfc_ng[ik] = int(wng[ik]);
  }
  const std::size_t ncx = std::size_t(db.wf_ncx);
  const auto grid = f.read_double("WFC_GRID", {nk, ncx});
  db.wfc_grid.assign(nk * ncx, -1);
  for (std::size_t ik = 0; ik < nk; ++ik)
    for (std::size_t ic = 0; ic < std::size_t(db.wfc_ng[ik]); ++ic) {
      const double v = grid[ik * ncx + ic];
      if (!(v >= 1 && v <= double(ng)) || v != std::floor(v))
        f.fail_var("WFC_GRID", fmt::format("k-point {}, component {}: G index {} outside 1..{}", ik + 1, ic + 1, v, ng));
      db.wfc_grid[ik * ncx + ic] = int(v) - 1;
    }
  return db;
}

}  // namespace rung::yambo
