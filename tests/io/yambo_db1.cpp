// ns.db1 of the real YAMBO 5.2.4 Si run (Γ-centred 8×8×8) and the legacy 4.x yambopy database.
#include "io/yambo/db1.hpp"
#include "io/yambo/netcdf.hpp"
#include "io/yambo/summary.hpp"
#include "io/yambo_test_support.hpp"

#include "core/units.hpp"

#include <cmath>
#include <hdf5.h>
#include <sstream>

using namespace rung;
using rung::test::si_gamma_save;

namespace {

// Eigenvalues (eV) of QE's nscf.out, k-point by k-point as printed ("k = ... bands (ev):").
std::vector<std::vector<double>> qe_bands_eV(const std::filesystem::path& out) {
  std::istringstream in(rung::test::slurp(out));
  std::vector<std::vector<double>> bands;
  std::string line;
  bool in_bands = false, skipping = false;
  while (std::getline(in, line)) {
    if (line.find("End of band structure calculation") != std::string::npos) in_bands = true;
    if (!in_bands) continue;
    if (line.find("highest occupied") != std::string::npos || line.find("Fermi energy") != std::string::npos) break;
    if (line.find("bands (ev)") != std::string::npos) {
      bands.emplace_back();
      skipping = false;
    } else if (line.find("occupation numbers") != std::string::npos) {
      skipping = true;
    } else if (!skipping && !bands.empty()) {
      std::istringstream nums(line);
      for (double v; nums >> v;) bands.back().push_back(v);
    }
  }
  return bands;
}

}  // namespace

TEST_CASE("ns.db1 of Si (YAMBO 5.2.4, Γ-centred 8x8x8): dimensions, lattice, atoms", "[reference][yambo][db1]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  const auto db = yambo::read_db1(si_gamma_save());
  CHECK(db.version == std::array<int, 3>{5, 2, 4});
  CHECK(db.nk == 29);
  CHECK(db.nbands == 16);
  CHECK(db.nelec == Approx(8.0));
  CHECK(db.n_spinor == 1);
  CHECK(db.n_sp_pol == 1);
  CHECK(db.ng == 3287);
  CHECK(db.wf_ncx == 416);
  CHECK(db.wf_ng == 627);
  // YAMBO's LATTICE_PARAMETER is the per-axis iku scale (5.13 = 10.26/2 for fcc), not QE's alat.
  for (int i = 0; i < 3; ++i) CHECK(db.alat[i] == Approx(5.13).epsilon(1e-6));
  // fcc with QE alat 10.26: |a_i| = 10.26/√2, Ω = 10.26³/4 (float storage: 1e-6 relative).
  for (int i = 0; i < 3; ++i) CHECK(db.lattice.row(i).norm() == Approx(10.26 / std::sqrt(2.0)).epsilon(1e-6));
  CHECK(db.volume() == Approx(10.26 * 10.26 * 10.26 / 4.0).epsilon(1e-6));
  CHECK(db.lattice.row(0).transpose().isApprox(Eigen::Vector3d(-5.13, 0, 5.13), 1e-6));
  REQUIRE(db.species_z == std::vector<int>{14});
  REQUIRE(db.atom_pos[0].size() == 2);
  CHECK(db.atom_pos[0][1].isApprox(Eigen::Vector3d(2.565, 2.565, 2.565), 1e-6));
  const auto s = db.structure();
  CHECK(s.size() == 2);
  CHECK(s.formula() == "Si");
  CHECK(s.cartesian(1).isApprox(Eigen::Vector3d(2.565, 2.565, 2.565), 1e-6));
  CHECK(yambo::NcFile::open(si_gamma_save() / "ns.db1").format() == "netCDF-4");
}

TEST_CASE("ns.db1 of Si: symmetries as stored (48 = 24 rotations doubled by time reversal)",
          "[reference][yambo][db1]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  const auto db = yambo::read_db1(si_gamma_save());
  REQUIRE(db.nsym() == 48);
  CHECK(db.time_reversal);
  for (const auto& R : db.symmetries) CHECK((R * R.transpose()).isIdentity(1e-12));  // snapped: exact
  CHECK(db.symmetries[0].isIdentity(0.0));
  // The second half is the first half times −1 (k → −Rk), doc/yambo-reader.md. Si (Td) has no inversion,
  // so none of the 24 spatial operations is −1 times another.
  for (int i = 0; i < 24; ++i) CHECK(db.symmetries[std::size_t(i + 24)].isApprox(-db.symmetries[std::size_t(i)], 1e-12));
  // Closed group: the product of two spatial operations is a spatial operation.
  const auto& S = db.symmetries;
  for (int i = 0; i < 24; i += 5)
    for (int j = 0; j < 24; j += 7) {
      const Eigen::Matrix3d P = S[std::size_t(i)] * S[std::size_t(j)];
      CHECK(std::any_of(S.begin(), S.begin() + 24, [&](const Eigen::Matrix3d& T) { return T.isApprox(P, 1e-9); }));
    }
}

TEST_CASE("ns.db1 of Si: k-points (iku -> Cartesian) and KS eigenvalues equal QE's nscf.out",
          "[reference][yambo][db1]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  const auto nscf = rung::test::yambo524() / "Si_gamma8x8x8" / "qe" / "nscf.out";
  RUNG_REQUIRE_SHARED(nscf);
  const auto db = yambo::read_db1(si_gamma_save());
  // QE's k-point 2 is (-0.125, 0.125, -0.125) 2π/10.26; iku uses 2π/5.13 per axis.
  const double unit = units::two_pi / 10.26;
  CHECK(db.k_cartesian(0).norm() == Approx(0.0).margin(1e-12));
  CHECK(db.k_cartesian(1).isApprox(Eigen::Vector3d(-0.125, 0.125, -0.125) * unit, 1e-6));
  CHECK(db.k_crystal(1).isApprox(Eigen::Vector3d(0.0, 0.0, 0.125), 1e-5));  // on the 8x8x8 grid
  // All G-vectors are lattice vectors of the reciprocal lattice (integer reduced coordinates), G=0 first.
  CHECK(db.g_iku[0].norm() == 0.0);
  for (int ig = 0; ig < db.ng; ig += 7) {
    const Eigen::Vector3d r = db.lattice * db.g_cartesian(ig) / units::two_pi;
    CHECK((r - db.g_miller(ig).cast<double>()).norm() < 1e-4);
  }
  // QE nscf: 411 plane waves at Γ = YAMBO's WFC_NG of k 1.
  CHECK(db.wfc_ng[0] == 411);
  CHECK(db.wfc_grid[0] == 0);  // first component of Γ is G = 0

  // Eigenvalues: YAMBO stores QE's energies in Ha without any shift (QE prints 4 decimals in eV;
  // float storage adds ~1e-7 relative): |Δ| < 1e-4 eV everywhere.
  const auto qe = qe_bands_eV(nscf);
  REQUIRE(qe.size() == 29);
  double worst = 0;
  for (int ik = 0; ik < 29; ++ik) {
    REQUIRE(qe[std::size_t(ik)].size() == 16);
    for (int ib = 0; ib < 16; ++ib)
      worst = std::max(worst, std::abs(units::Ha_to_eV(db.energy(0, ik, ib)) - qe[std::size_t(ik)][std::size_t(ib)]));
  }
  CHECK(worst < 1e-4);
  CHECK(units::Ha_to_eV(db.energy(0, 0, 0)) == Approx(-5.8736).margin(1e-4));
  CHECK(db.n_occupied_insulator() == 3);
}

TEST_CASE("yambo summarize(SAVE) for rung info", "[reference][yambo][summary]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  const auto s = yambo::summarize(si_gamma_save());
  CHECK(s.source == "yambo");
  CHECK(s.formula == "Si");
  CHECK(s.nk == 29);
  CHECK(s.nk_full_bz == 512);  // Γ-centred 8x8x8 is closed under the point group
  REQUIRE(s.mp_grid);
  CHECK(*s.mp_grid == std::array<int, 3>{8, 8, 8});
  CHECK(*s.mp_shift == std::array<int, 3>{0, 0, 0});
  CHECK(s.nbands == 16);
  CHECK(s.nelec == Approx(8));
  CHECK(s.nsym == 24);
  CHECK(s.time_reversal);
  // QE nscf.out: highest occupied 6.0702 eV, lowest unoccupied 6.6317 eV.
  REQUIRE(s.gap_indirect_eV);
  CHECK(*s.gap_indirect_eV == Approx(6.6317 - 6.0702).margin(2e-4));
  REQUIRE(s.gap_direct_eV);
  CHECK(*s.gap_direct_eV >= *s.gap_indirect_eV);
  REQUIRE(s.pseudopotentials.size() == 1);
  CHECK(s.pseudopotentials[0].kind == "NC");
  CHECK(s.structure.volume() == Approx(270.0).epsilon(1e-3));
}

TEST_CASE("legacy ns.db1 (yambopy, YAMBO 4.x, classic 64-bit offset, hBN-like 2D)", "[reference][yambo][db1][legacy]") {
  RUNG_REQUIRE_SHARED(rung::test::yambopy_save());
  const auto path = rung::test::yambopy_save() / "ns.db1";
  CHECK(yambo::NcFile::open(path).format() == "64-bit offset");
  const auto db = yambo::read_db1(path);
  CHECK(db.version[0] == 4);
  CHECK(db.nk == 19);
  CHECK(db.nbands == 60);
  CHECK(db.nsym() == 24);
  CHECK(db.nelec == Approx(8));
  CHECK(db.species_z == std::vector<int>{5, 7});
  CHECK(db.alat[0] == Approx(4.7));
  CHECK(db.alat[1] == Approx(4.070319));
  CHECK(db.alat[2] == Approx(12.0));
  CHECK(db.structure().formula().size() > 0);
  // Hexagonal cell: the snapped rotations are still orthogonal and entries are 0, ±1/2, ±√3/2, ±1.
  for (const auto& R : db.symmetries) CHECK((R * R.transpose()).isIdentity(1e-9));
  // The star of every irreducible k under the 24 operations gives YAMBO's 144 BZ points (HEAD_R_LATT of its dipoles).
  CHECK(yambo::count_full_bz(db) == 144);
}

namespace {
int host_handler_calls = 0;
int host_handler_marker = 0;
herr_t host_handler(hid_t, void* data) {
  if (data == &host_handler_marker) ++host_handler_calls;
  return 0;
}
}  // namespace

// The netCDF-4 library switches HDF5's error printing off for the whole process when it initialises
// (on the first file it opens); rung restores the host's handler after each of its netCDF calls. ctest
// runs this case in a process of its own, so netCDF initialises inside rung's first call here.
TEST_CASE("ns.db1 (netCDF-4): reading it leaves the host's HDF5 error handler in place", "[reference][yambo][db1]") {
  RUNG_REQUIRE_SHARED(si_gamma_save() / "ns.db1");
  REQUIRE(H5Eset_auto2(H5E_DEFAULT, host_handler, &host_handler_marker) >= 0);
  {
    const auto f = yambo::NcFile::open(si_gamma_save() / "ns.db1");
    CHECK(f.format() == "netCDF-4");
    CHECK_FALSE(f.variables().empty());
    CHECK_THROWS_AS(f.read_double("NOT_A_VARIABLE"), Error);
  }
  CHECK_THROWS_AS(yambo::NcFile::open(si_gamma_save() / "no_such.db"), Error);
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  REQUIRE(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
  CHECK(func == &host_handler);
  CHECK(data == &host_handler_marker);
  CHECK(host_handler_calls == 0);  // nothing of rung's reached the host's handler
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}
