// UPF v1/v2 reader and the Brillouin-zone helpers (unfolding, Monkhorst-Pack detection).
#include "core/brillouin_zone.hpp"
#include "io/qe_test_util.hpp"
#include "io/qe/upf.hpp"

#include <algorithm>
#include <cmath>

using namespace rung;
namespace fs = std::filesystem;

namespace {
const fs::path pseudo_dir = "/usr/share/espresso/pseudo";
}

TEST_CASE("UPF v2 and v1 of the same Si pseudopotential agree", "[reference][upf][readers]") {
  const fs::path v2 = pseudo_dir / "Si.pz-vbc.UPF";
  const fs::path v1 = rung::test::shared_reference() / "yambo-tests/Si_bulk-GW-OPTICS/DFT/Si.vbc.UPF";
  RUNG_SKIP_UNLESS(rung::test::have(v2), "needs Debian's quantum-espresso pseudopotentials");
  const auto a = upf::Pseudopotential::read(v2);
  CHECK(a.element == "Si");
  CHECK(a.kind == qe::PseudoKind::norm_conserving);
  CHECK(a.z_valence == Approx(4.0));
  CHECK(a.r.size() == 431);
  CHECK(a.rab.size() == 431);
  REQUIRE(a.nbeta() == 2);
  CHECK(a.projectors[0].l == 0);
  CHECK(a.projectors[1].l == 1);
  CHECK(a.projectors[0].cutoff_index == 359);
  CHECK(a.projectors[0].rbeta.size() == 359);
  CHECK(a.projectors[0].rbeta[0] == Approx(5.62466109801e-3));
  REQUIRE(a.dij.size() == 4);
  CHECK(a.dij[0] == Approx(1.52388501179));
  CHECK(a.dij[3] == Approx(3.68330413052));
  CHECK(a.dij[1] == 0.0);
  CHECK_FALSE(a.relativistic_spin_orbit);
  RUNG_REQUIRE_SHARED(v1);
  const auto b = upf::Pseudopotential::read(v1);
  CHECK(b.element == "Si");
  CHECK(b.kind == qe::PseudoKind::norm_conserving);
  CHECK(b.z_valence == Approx(4.0));
  REQUIRE(b.r.size() == a.r.size());
  for (std::size_t i = 0; i < a.r.size(); i += 37) CHECK(b.r[i] == Approx(a.r[i]).epsilon(1e-10));
  REQUIRE(b.nbeta() == 2);
  for (int ib = 0; ib < 2; ++ib) {
    CHECK(b.projectors[ib].l == a.projectors[ib].l);
    REQUIRE(b.projectors[ib].rbeta.size() == a.projectors[ib].rbeta.size());
    for (std::size_t i = 0; i < a.projectors[ib].rbeta.size(); i += 13)
      CHECK(b.projectors[ib].rbeta[i] == Approx(a.projectors[ib].rbeta[i]).epsilon(1e-10));
  }
  for (int i = 0; i < 4; ++i) CHECK(b.dij[i] == Approx(a.dij[i]).margin(1e-12));
}

TEST_CASE("UPF kinds: ultrasoft and PAW detected, v1 and v2", "[unit][upf][readers]") {
  RUNG_SKIP_UNLESS(rung::test::have(pseudo_dir / "Si.pbe-nl-rrkjus_psl.1.0.0.UPF"),
                   "needs Debian's quantum-espresso pseudopotentials");
  struct K {
    const char* file;
    qe::PseudoKind kind;
    const char* element;
  };
  const K ks[] = {{"Si.pbe-nl-rrkjus_psl.1.0.0.UPF", qe::PseudoKind::ultrasoft, "Si"},
                  {"B.pbe-n-kjpaw_psl.1.0.0.UPF", qe::PseudoKind::paw, "B"},
                  {"C.pbe-n-kjpaw_psl.0.1.UPF", qe::PseudoKind::paw, "C"},
                  {"Cu.pbe-kjpaw.UPF", qe::PseudoKind::paw, "Cu"},                  // UPF 2.0.0
                  {"CorelUSPBE.RRKJ3.UPF", qe::PseudoKind::ultrasoft, "Co"},       // UPF v1, spin-orbit
                  {"Rh.pbe-rrkjus_lb.UPF", qe::PseudoKind::ultrasoft, "Rh"},       // UPF v1
                  {"C.UPF", qe::PseudoKind::norm_conserving, "C"},                 // UPF v1
                  {"Fe.pbe-mt_fhi.UPF", qe::PseudoKind::norm_conserving, "Fe"}};   // semilocal "SL"
  for (const auto& k : ks) {
    INFO(k.file);
    const auto h = upf::Pseudopotential::read_header(pseudo_dir / k.file);
    CHECK(h.kind == k.kind);
    CHECK(h.element == k.element);
    const auto full = upf::Pseudopotential::read(pseudo_dir / k.file);
    CHECK(full.kind == k.kind);
    CHECK(full.nbeta() > 0);
    CHECK(full.dij.size() == std::size_t(full.nbeta() * full.nbeta()));
  }
  CHECK(upf::Pseudopotential::read(pseudo_dir / "CorelUSPBE.RRKJ3.UPF").relativistic_spin_orbit);
  CHECK(upf::Pseudopotential::read(pseudo_dir / "Si_r.upf").relativistic_spin_orbit);
}

TEST_CASE("UPF: every pseudopotential Debian ships is read", "[unit][upf][readers]") {
  RUNG_SKIP_UNLESS(rung::test::have(pseudo_dir), "needs Debian's quantum-espresso pseudopotentials");
  int n = 0;
  for (const auto& e : fs::directory_iterator(pseudo_dir)) {
    const auto ext = e.path().extension().string();
    if (ext != ".UPF" && ext != ".upf") continue;
    INFO(e.path());
    CHECK_NOTHROW(upf::Pseudopotential::read(e.path()));
    ++n;
  }
  CHECK(n > 10);
}

TEST_CASE("BZ: k_rotation is the inverse transpose", "[unit][bz]") {
  Eigen::Matrix3i m;
  m << 0, 0, 1, -1, -1, -1, 1, 0, 0;  // a QE fcc operation
  const Eigen::Matrix3i k = bz::k_rotation(m);
  CHECK((k.transpose() * m - Eigen::Matrix3i::Identity()).cwiseAbs().maxCoeff() == 0);
  CHECK(bz::k_rotation(-Eigen::Matrix3i::Identity()) == -Eigen::Matrix3i::Identity());
}

TEST_CASE("BZ: unfolding follows YAMBO's order and drops duplicates within a star", "[unit][bz]") {
  // Simple cubic, the 4 rotations about z, time reversal.
  std::vector<Eigen::Matrix3i> rots(4);
  rots[0].setIdentity();
  rots[1] << 0, -1, 0, 1, 0, 0, 0, 0, 1;
  rots[2] = rots[1] * rots[1];
  rots[3] = rots[2] * rots[1];
  const std::vector<Eigen::Vector3d> k{{0, 0, 0}, {0.25, 0, 0}, {0.25, 0.25, 0.25}};
  const auto full = bz::unfold(k, rots, true);
  // Γ: 1 point; (1/4,0,0): 4 (time reversal adds nothing new); (1/4,1/4,1/4): 4 with +, 4 with -.
  REQUIRE(full.size() == 1 + 4 + 8);
  CHECK(full[0].ik_ibz == 0);
  CHECK(full[1].ik_ibz == 1);
  CHECK(full[1].isym == 0);
  CHECK(full[1].time_reversal == 1);
  CHECK((full[2].k - Eigen::Vector3d(0, 0.25, 0)).norm() < 1e-12);  // R1 (1/4,0,0)
  CHECK((full[3].k - Eigen::Vector3d(0.75, 0, 0)).norm() < 1e-12);  // reduced into [0,1)
  // Third star: the 4 rotations with s=+1 first, then s=-1 (YAMBO appends the time-reversed ops).
  for (int i = 0; i < 4; ++i) CHECK(full[5 + i].time_reversal == 1);
  for (int i = 4; i < 8; ++i) CHECK(full[5 + i].time_reversal == -1);
  CHECK((full[9].k - Eigen::Vector3d(0.75, 0.75, 0.75)).norm() < 1e-12);
  for (const auto& p : full)
    for (int d = 0; d < 3; ++d) CHECK((p.k[d] >= 0 && p.k[d] < 1));
  // Without time reversal: 1 + 4 + 4.
  CHECK(bz::unfold(k, rots, false).size() == 9);
  // Overlapping stars (k and -k both given) are kept apart unless asked.
  const std::vector<Eigen::Vector3d> kk{{0.25, 0.25, 0.25}, {0.75, 0.75, 0.75}};
  CHECK(bz::unfold(kk, rots, true).size() == 16);
  CHECK(bz::unfold(kk, rots, true, 1e-5, true).size() == 8);
}

TEST_CASE("BZ: Monkhorst-Pack detection", "[unit][bz]") {
  for (auto [n, s] : {std::pair{std::array<int, 3>{4, 4, 4}, std::array<int, 3>{0, 0, 0}},
                      std::pair{std::array<int, 3>{3, 5, 2}, std::array<int, 3>{1, 0, 1}},
                      std::pair{std::array<int, 3>{1, 1, 6}, std::array<int, 3>{0, 0, 1}}}) {
    bz::GridInfo g{n, s};
    auto pts = bz::mp_grid_points(g);
    // Any representative modulo G.
    for (std::size_t i = 0; i < pts.size(); i += 3) pts[i] -= Eigen::Vector3d(1, 0, 2);
    const auto got = bz::detect_mp_grid(pts);
    REQUIRE(got);
    CHECK(got->n == n);
    CHECK(got->shift == s);
    pts.pop_back();
    CHECK_FALSE(bz::detect_mp_grid(pts));
  }
  CHECK_FALSE(bz::detect_mp_grid({Eigen::Vector3d(0.1234567, 0, 0)}));
  CHECK_FALSE(bz::detect_mp_grid({}));
}

TEST_CASE("BZ: uniform grid with any offset", "[unit][bz]") {
  // The paper's Ca4As2O list: a 6x6x6 grid shifted by (1/64, 1/32, 3/64) of the reciprocal basis, i.e. offsets
  // (6/64, 12/64, 18/64) = (0.09375, 0.1875, 0.28125) in units of the grid spacing; points given in any order
  // and any representative modulo G.
  const std::array<int, 3> n{6, 6, 6};
  const Eigen::Vector3d shift(1.0 / 64, 1.0 / 32, 3.0 / 64);
  std::vector<Eigen::Vector3d> pts;
  for (int i = 0; i < n[0]; ++i)
    for (int j = 0; j < n[1]; ++j)
      for (int k = 0; k < n[2]; ++k) pts.emplace_back(Eigen::Vector3d(i / 6.0, j / 6.0, k / 6.0) + shift);
  std::reverse(pts.begin(), pts.end());
  for (std::size_t i = 0; i < pts.size(); i += 5) pts[i] += Eigen::Vector3d(-1, 2, 0);
  const auto g = bz::detect_uniform_grid(pts);
  REQUIRE(g);
  CHECK(g->n == n);
  CHECK(std::abs(g->offset[0] - 0.09375) < 1e-12);
  CHECK(std::abs(g->offset[1] - 0.1875) < 1e-12);
  CHECK(std::abs(g->offset[2] - 0.28125) < 1e-12);
  // It is no Monkhorst-Pack grid (offsets not 0 or 1/2).
  CHECK_FALSE(bz::detect_mp_grid(pts));
  // A missing point, a repeated point, or a point off the lattice: no uniform grid.
  auto missing = pts;
  missing.pop_back();
  CHECK_FALSE(bz::detect_uniform_grid(missing));
  auto repeated = pts;
  repeated.back() = repeated.front() + Eigen::Vector3d(1, 0, 0);
  CHECK_FALSE(bz::detect_uniform_grid(repeated));
  auto off = pts;
  off[7][1] += 0.0123;
  CHECK_FALSE(bz::detect_uniform_grid(off));
  // A Monkhorst-Pack grid is the case of offsets 0 and 1/2 (2x3x1, shifted along a1 only).
  const std::vector<Eigen::Vector3d> mp{{0.25, 0, 0}, {0.25, 1.0 / 3, 0}, {0.25, 2.0 / 3, 0},
                                        {0.75, 0, 0}, {0.75, 1.0 / 3, 0}, {0.75, 2.0 / 3, 0}};
  const auto h = bz::detect_uniform_grid(mp);
  REQUIRE(h);
  CHECK(h->n == std::array<int, 3>{2, 3, 1});
  CHECK(std::abs(h->offset[0] - 0.5) < 1e-12);
  CHECK(h->offset[1] == 0.0);
  CHECK(h->offset[2] == 0.0);
}
