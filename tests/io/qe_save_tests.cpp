// QE prefix.save reader on the pw.x fixture runs: XML against pw.x's printed output, wavefunctions,
// plane-wave sphere, k-point counts, gaps, symmetry conventions.
#include "core/brillouin_zone.hpp"
#include "core/units.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/qe_test_util.hpp"

#include <set>
#include <tuple>

using namespace rung;
using rung::test::qe::Case;

namespace {
#define REQUIRE_CASE(c) RUNG_REQUIRE_FIXTURE((c).name)

// The loops over every case: a case is left out only where it cannot be (made from ../shared, absent in a user's
// clone); one that should be there and is not fails, so the loop never passes on fewer runs than it names.
bool expected_here(const Case& c) {
  if (!rung::test::fixture_expected(c.name)) return false;
  INFO("the pw.x fixture run " << c.name << " (tests/fixtures/run_qe.sh makes it)");
  REQUIRE(rung::test::qe::available(c));
  return true;
}
int expected_count() {
  int n = 0;
  for (const auto& c : rung::test::qe::cases()) n += rung::test::fixture_expected(c.name) ? 1 : 0;
  return n;
}

const Case& case_named(const std::string& n) {
  for (const auto& c : rung::test::qe::cases())
    if (c.name == n) return c;
  throw std::runtime_error("no case " + n);
}
}  // namespace

TEST_CASE("QE XML: eigenvalues and k-points equal pw.x's printed ones", "[reference][qe][readers]") {
  int checked = 0;
  for (const auto& c : rung::test::qe::cases()) {
    if (!expected_here(c)) continue;
    const auto printed = rung::test::qe::read_pw_log(rung::test::qe_runs() / c.name / c.out_file);
    INFO(c.name);
    if (c.name == "qe_si_888_nosym") {
      CHECK(printed.e.empty());  // verbosity low with 512 k-points: pw.x lists no bands
      continue;
    }
    // the other runs list their bands (si_tiny: verbosity 'high'; the nscf runs: at most 60 k-points), so an
    // empty listing is a broken log reader or run, not a case to skip
    REQUIRE_FALSE(printed.e.empty());
    const auto s = qe::Save::read(rung::test::qe::save_of(c));
    REQUIRE(printed.e.size() == s.nk());
    for (std::size_t ik = 0; ik < s.nk(); ++ik) {
      const Eigen::Vector3d k_alat = s.k_cart[ik] * s.alat / units::two_pi;
      for (int d = 0; d < 3; ++d) CHECK(std::abs(k_alat[d] - printed.k[ik][d]) < 1.0001e-4);
      REQUIRE((int)printed.e[ik].size() == s.nbnd);
      for (int b = 0; b < s.nbnd; ++b)
        CHECK(std::abs(units::Ha_to_eV(s.eigenvalues(Eigen::Index(ik), b)) - printed.e[ik][b]) < 1.0001e-4);
    }
    ++checked;
  }
  // every run here but qe_si_888_nosym
  CHECK(checked == expected_count() - (rung::test::fixture_expected("qe_si_888_nosym") ? 1 : 0));
}

TEST_CASE("QE XML: structure, cutoffs, symmetries of the tiny Si run", "[reference][qe][readers]") {
  const Case& c = case_named("si_tiny");
  REQUIRE_CASE(c);
  const auto s = qe::Save::read(rung::test::qe_runs() / c.name / "out");  // folder holding one .save
  CHECK(s.prefix == "si");
  CHECK(s.structure.size() == 2);
  CHECK(s.structure.numbers == std::vector<int>{14, 14});
  CHECK(s.structure.formula() == "Si");
  CHECK(s.alat == Approx(10.26));
  CHECK(s.structure.volume() == Approx(std::pow(10.26, 3) / 4));
  CHECK(s.ecutwfc == Approx(6.0));   // 12 Ry
  CHECK(s.ecutrho == Approx(24.0));
  CHECK(s.nbnd == 8);
  CHECK(s.nelec == Approx(8.0));
  CHECK(s.nk() == 8);
  CHECK(s.symmetries.size() == 48);
  CHECK(s.time_reversal);
  CHECK(s.occupations == "fixed");
  CHECK(s.is_insulator());
  CHECK(s.occupied_bands() == 4);
  REQUIRE(s.mp_grid);
  CHECK(s.mp_grid->n == std::array<int, 3>{4, 4, 4});
  CHECK(s.mp_grid->shift == std::array<int, 3>{0, 0, 0});
  REQUIRE(s.species.size() == 1);
  CHECK(s.species[0].kind == qe::PseudoKind::norm_conserving);
  CHECK(s.species[0].pseudo_file == "Si.pz-vbc.UPF");
  double wsum = 0;
  for (double w : s.k_weights) wsum += w;
  CHECK(wsum == Approx(2.0));
  // Reciprocal vectors: a_i . b_j = 2π δ_ij.
  CHECK((s.structure.lattice * s.reciprocal.transpose() - units::two_pi * Eigen::Matrix3d::Identity()).norm() < 1e-10);
  // Occupations of an insulator with fixed occupations: 1 for the first 4 bands, 0 above.
  CHECK(s.occupations_kb.leftCols(4).minCoeff() == Approx(1.0));
  CHECK(s.occupations_kb.rightCols(4).maxCoeff() == Approx(0.0).margin(1e-12));
}

TEST_CASE("QE symmetries: rotation acts on fractional positions, its inverse-transpose on crystal k",
          "[reference][qe][readers][bz]") {
  const Case& c = case_named("si_tiny");
  REQUIRE_CASE(c);
  const auto s = qe::Save::read(rung::test::qe::save_of(c));
  const Eigen::Matrix3d at = s.structure.lattice.transpose();
  for (const auto& op : s.symmetries) {
    INFO(op.name);
    // Orthogonal in Cartesian coordinates.
    CHECK((op.rotation_cart.transpose() * op.rotation_cart - Eigen::Matrix3d::Identity()).norm() < 1e-10);
    // Maps the crystal onto itself: R x - f is an atom of the same species modulo lattice vectors.
    for (std::size_t a = 0; a < s.structure.size(); ++a) {
      // QE convention: R x_a - ft is an atom (sgam_at: rau - xau(nb) = ft).
      const Eigen::Vector3d x = op.rotation.cast<double>() * s.structure.frac[a] - op.fractional_translation;
      bool found = false;
      for (std::size_t b = 0; b < s.structure.size(); ++b) {
        const Eigen::Vector3d d = x - s.structure.frac[b];
        if ((d - d.array().round().matrix()).norm() < 1e-6 && s.atom_species[a] == s.atom_species[b]) found = true;
      }
      CHECK(found);
    }
    // Same operation on k: Cartesian R k equals B^T M_k κ.
    const Eigen::Matrix3i mk = bz::k_rotation(op.rotation);
    CHECK((mk.transpose() * op.rotation - Eigen::Matrix3i::Identity()).cwiseAbs().maxCoeff() == 0);
    for (const auto& kc : s.k_cart) {
      const Eigen::Vector3d kappa = bz::to_crystal(kc, s.reciprocal);
      const Eigen::Vector3d via_crystal = bz::to_cartesian(mk.cast<double>() * kappa, s.reciprocal);
      CHECK((via_crystal - op.rotation_cart * kc).norm() < 1e-10);
    }
    (void)at;
  }
}

TEST_CASE("QE wavefunctions: normalised, orthogonal, inside the cutoff sphere, npw as in the XML",
          "[reference][qe][readers]") {
  int checked = 0;
  for (const auto& c : rung::test::qe::cases()) {
    if (!expected_here(c)) continue;
    INFO(c.name);
    const auto s = qe::Save::read(rung::test::qe::save_of(c));
    const int stride = s.nk() > 100 ? 7 : 1;  // the 512-k no-symmetry run: sphere completeness every 7th k
    for (int ik = 0; ik < (int)s.nk(); ++ik) {
      INFO("ik = " << ik);
      const auto w = s.read_wavefunction(ik);
      CHECK(w.ik == ik);
      CHECK(w.npol == 1);
      CHECK_FALSE(w.gamma_only);
      CHECK(w.coefficients.cols() == s.nbnd);
      CHECK(w.ngw == s.npw[ik]);
      CHECK((w.k_cart - s.k_cart[ik]).norm() < 1e-10);
      const Eigen::MatrixXcd overlap = w.coefficients.adjoint() * w.coefficients;
      const double err = (overlap - Eigen::MatrixXcd::Identity(s.nbnd, s.nbnd)).cwiseAbs().maxCoeff();
      CHECK(err < 1e-12);
      // |k+G|^2/2 <= ecutwfc for every G, all G distinct, and the sphere is complete.
      std::set<std::tuple<int, int, int>> gs;
      double kin_max = 0;
      for (int ig = 0; ig < w.ngw; ++ig) {
        const Eigen::Vector3d g = s.reciprocal.transpose() * w.miller.row(ig).transpose().cast<double>();
        kin_max = std::max(kin_max, 0.5 * (s.k_cart[ik] + g).squaredNorm());
        gs.insert({w.miller(ig, 0), w.miller(ig, 1), w.miller(ig, 2)});
      }
      CHECK(kin_max <= s.ecutwfc * (1 + 1e-10));
      CHECK((int)gs.size() == w.ngw);
      if (ik % stride != 0) continue;
      int inside = 0;
      const int m = 12;
      for (int a = -m; a <= m; ++a)
        for (int b = -m; b <= m; ++b)
          for (int d = -m; d <= m; ++d) {
            const Eigen::Vector3d g = s.reciprocal.transpose() * Eigen::Vector3d(a, b, d);
            if (0.5 * (s.k_cart[ik] + g).squaredNorm() <= s.ecutwfc) ++inside;
          }
      CHECK(inside == w.ngw);
    }
    ++checked;
  }
  CHECK(checked == expected_count());
}

TEST_CASE("QE k-points: irreducible and full-zone counts, Monkhorst-Pack detection", "[reference][qe][readers][bz]") {
  struct Want {
    const char* name;
    std::size_t nk, nk_full;
    std::array<int, 3> n, shift;
  };
  const Want wants[] = {{"si_tiny", 8, 64, {4, 4, 4}, {0, 0, 0}},
                        {"yambo_tests_si", 10, 256, {4, 4, 4}, {1, 1, 1}},
                        {"si_shifted_888", 60, 2048, {8, 8, 8}, {1, 1, 1}},
                        {"si_gamma_888", 29, 512, {8, 8, 8}, {0, 0, 0}},
                        {"qe_si_888_nosym", 512, 512, {8, 8, 8}, {0, 0, 0}}};
  int checked = 0;
  for (const auto& w : wants) {
    const Case& c = case_named(w.name);
    if (!expected_here(c)) continue;
    INFO(c.name);
    const auto s = qe::Save::read(rung::test::qe::save_of(c));
    CHECK(s.nk() == w.nk);
    const auto sum = qe::summarize(s);
    CHECK(sum.nk == w.nk);
    CHECK(sum.nk_full_bz == w.nk_full);
    REQUIRE(sum.mp_grid);
    CHECK(*sum.mp_grid == w.n);
    CHECK(*sum.mp_shift == w.shift);
    const auto full = bz::unfold(qe::k_crystal(s), qe::k_rotations(s), s.time_reversal);
    // Every unfolded point is a rotated irreducible one, and (for grids the symmetries keep) the
    // unfolded set is the uniform grid itself, with QE's weights proportional to the star sizes.
    std::vector<Eigen::Vector3d> pts;
    std::vector<int> star(s.nk(), 0);
    for (const auto& p : full) {
      pts.push_back(p.k);
      ++star[p.ik_ibz];
    }
    const auto g = bz::detect_mp_grid(pts);
    if (w.shift == std::array<int, 3>{0, 0, 0}) {
      REQUIRE(g);
      CHECK(g->n == w.n);
      for (std::size_t ik = 0; ik < s.nk(); ++ik) CHECK(s.k_weights[ik] == Approx(2.0 * star[ik] / full.size()));
    } else {
      CHECK_FALSE(g);  // fcc + shifted grid: the symmetric images leave the grid (YAMBO's 2048/256 points)
    }
    ++checked;
  }
  CHECK(checked == expected_count());  // (wants names every case)
}

TEST_CASE("QE gaps equal pw.x's highest occupied / lowest unoccupied levels", "[reference][qe][readers]") {
  int checked = 0;
  for (const auto& c : rung::test::qe::cases()) {
    if (!expected_here(c)) continue;
    const auto printed = rung::test::qe::read_pw_log(rung::test::qe_runs() / c.name / c.out_file);
    INFO(c.name);
    // every case has fixed occupations and empty bands: pw.x prints its highest occupied and lowest unoccupied
    // levels whatever the verbosity, so a NaN is a broken log reader or run, not a case to skip
    REQUIRE_FALSE(std::isnan(printed.homo));
    REQUIRE_FALSE(std::isnan(printed.lumo));
    const auto s = qe::Save::read(rung::test::qe::save_of(c));
    const auto g = qe::ks_gaps(s);
    REQUIRE(g);
    CHECK(units::Ha_to_eV(g->vbm) == Approx(printed.homo).margin(1.0001e-4));
    CHECK(units::Ha_to_eV(g->cbm) == Approx(printed.lumo).margin(1.0001e-4));
    const auto sum = qe::summarize(s);
    REQUIRE(sum.gap_indirect_eV);
    CHECK(*sum.gap_indirect_eV == Approx(printed.lumo - printed.homo).margin(2.0001e-4));
    REQUIRE(sum.gap_direct_eV);
    CHECK(*sum.gap_direct_eV >= *sum.gap_indirect_eV - 1e-12);
    if (s.homo) CHECK(*s.homo == Approx(g->vbm).margin(1e-10));
    if (s.lumo) CHECK(*s.lumo == Approx(g->cbm).margin(1e-10));
    ++checked;
  }
  CHECK(checked == expected_count());
}

TEST_CASE("QE yambo-tests Si: 10 irreducible k-points of the shifted 4x4x4 grid", "[reference][qe][readers]") {
  const Case& c = case_named("yambo_tests_si");
  REQUIRE_CASE(c);
  const auto s = qe::Save::read(rung::test::qe::save_of(c));
  CHECK(s.nk() == 10);
  CHECK(s.nbnd == 32);
  CHECK(s.symmetries.size() == 24);
  CHECK(s.species.at(0).pseudo_file == "Si.vbc.UPF");  // UPF v1
  CHECK(s.species.at(0).kind == qe::PseudoKind::norm_conserving);
}
