#include "io/yambo/summary.hpp"

#include "core/brillouin_zone.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "io/qe/save.hpp"
#include "io/qe/summary.hpp"
#include "io/yambo/db1.hpp"
#include "io/yambo/kb.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rung::yambo {

std::vector<Eigen::Vector3d> full_bz_crystal(const Db1& db) {
  // Work in reduced coordinates, folded to [0,1): two points are the same if they differ by a
  // reciprocal lattice vector. Tolerance 1e-4 covers single-precision k-points.
  const Eigen::Matrix3d& a = db.lattice;
  auto fold = [](Eigen::Vector3d r) {
    for (int i = 0; i < 3; ++i) {
      r[i] -= std::floor(r[i] + 1e-5);
      if (r[i] > 1.0 - 1e-5) r[i] = 0.0;
    }
    return r;
  };
  std::vector<Eigen::Vector3d> all;
  for (int ik = 0; ik < db.nk; ++ik) {
    const Eigen::Vector3d k = db.k_cartesian(ik);
    std::vector<Eigen::Vector3d> star;
    for (const auto& R : db.symmetries) {
      const Eigen::Vector3d r = fold(a * (R * k) / units::two_pi);
      const bool seen = std::any_of(star.begin(), star.end(), [&](const Eigen::Vector3d& s) {
        Eigen::Vector3d d = s - r;
        for (int i = 0; i < 3; ++i) d[i] -= std::round(d[i]);
        return d.norm() < 1e-4;
      });
      if (!seen) star.push_back(r);
    }
    all.insert(all.end(), star.begin(), star.end());
  }
  return all;
}

std::size_t count_full_bz(const Db1& db) { return full_bz_crystal(db).size(); }

SystemSummary summarize(const std::filesystem::path& save_dir) {
  const Db1 db = read_db1(save_dir);
  SystemSummary s;
  s.source = "yambo";
  s.path = save_dir.string();
  s.structure = db.structure();
  s.formula = s.structure.formula();
  s.nk = std::size_t(db.nk);
  const auto full = full_bz_crystal(db);
  s.nk_full_bz = full.size();
  // A closed Monkhorst-Pack grid (e.g. Γ-centred) is recognised; YAMBO's star set of a shifted grid
  // is larger than the grid and is not (mp_grid stays empty then).
  if (const auto grid = bz::detect_mp_grid(full)) {
    s.mp_grid = grid->n;
    s.mp_shift = grid->shift;
  }
  s.nbands = db.nbands;
  s.nelec = db.nelec;
  s.nsym = db.time_reversal ? db.nsym() / 2 : db.nsym();
  s.time_reversal = db.time_reversal;
  s.spin_polarized = db.n_sp_pol == 2;
  s.noncollinear = db.n_spinor == 2;

  // KS gaps for an insulator: every k has nocc occupied bands and the band above is empty. ns.db1 keeps no
  // occupations: a spin-polarised SAVE is an insulator when its electrons fill every state below a gap common to
  // both channels (qe::Save::common_gap_filling, as the solver reads it), else a metal without a gap.
  const int nocc = db.n_occupied_insulator() + 1;
  const bool integral = std::abs(db.nelec * db.n_spinor / 2.0 - nocc) < 1e-6;
  if (db.n_sp_pol == 2) {
    qe::Save e;
    e.lsda = true;
    e.occupations = "smearing";
    e.nbnd = db.nbands;
    e.nelec = db.nelec;
    e.eigenvalues.resize(db.nk, 2 * db.nbands);
    for (int isp = 0; isp < 2; ++isp)
      for (int ik = 0; ik < db.nk; ++ik)
        for (int b = 0; b < db.nbands; ++b) e.eigenvalues(ik, isp * db.nbands + b) = db.energy(isp, ik, b);
    if (const auto fill = e.common_gap_filling()) {
      e.occupations_kb = Eigen::MatrixXd::Zero(db.nk, 2 * db.nbands);
      for (int isp = 0; isp < 2; ++isp)
        e.occupations_kb.middleCols(isp * db.nbands, (*fill)[std::size_t(isp)]).setOnes();
      if (const auto g = qe::ks_gaps(e)) {
        s.gap_indirect_eV = units::Ha_to_eV(g->indirect);
        s.gap_direct_eV = units::Ha_to_eV(g->direct);
      }
    }
  } else if (integral && nocc >= 1 && nocc < db.nbands) {
    double vbm = -std::numeric_limits<double>::infinity(), cbm = std::numeric_limits<double>::infinity();
    double direct = std::numeric_limits<double>::infinity();
    for (int ik = 0; ik < db.nk; ++ik) {
      const double v = db.energy(0, ik, nocc - 1), c = db.energy(0, ik, nocc);
      vbm = std::max(vbm, v);
      cbm = std::min(cbm, c);
      direct = std::min(direct, c - v);
    }
    if (cbm > vbm) {
      s.gap_indirect_eV = units::Ha_to_eV(cbm - vbm);
      s.gap_direct_eV = units::Ha_to_eV(direct);
    }
  }
  if (has_kb_pp(std::filesystem::is_directory(save_dir) ? save_dir : save_dir.parent_path())) {
    for (int z : db.species_z) s.pseudopotentials.push_back({elements::symbol(z), "", "NC"});
  } else {
    for (int z : db.species_z) s.pseudopotentials.push_back({elements::symbol(z), "", "unknown"});
  }
  return s;
}

}  // namespace rung::yambo
