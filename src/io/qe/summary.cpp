#include "io/qe/summary.hpp"

#include "core/brillouin_zone.hpp"
#include "core/elements.hpp"
#include "core/units.hpp"

#include <cmath>
#include <limits>

namespace rung::qe {

std::vector<Eigen::Vector3d> k_crystal(const Save& save) {
  std::vector<Eigen::Vector3d> out;
  out.reserve(save.nk());
  for (const auto& k : save.k_cart) out.push_back(bz::to_crystal(k, save.reciprocal));
  return out;
}

std::vector<Eigen::Matrix3i> k_rotations(const Save& save) {
  std::vector<Eigen::Matrix3i> out;
  out.reserve(save.symmetries.size());
  for (const auto& s : save.symmetries) out.push_back(bz::k_rotation(s.rotation));
  return out;
}

std::optional<Gaps> ks_gaps(const Save& save) {
  if (!save.is_insulator()) return std::nullopt;
  const int nb = save.nbnd;
  const int nspin = save.lsda ? 2 : 1;
  const Eigen::Index nk = save.eigenvalues.rows();
  Gaps g;
  g.vbm = -std::numeric_limits<double>::infinity();
  g.cbm = std::numeric_limits<double>::infinity();
  g.direct = std::numeric_limits<double>::infinity();
  bool filled = false;
  for (int sp = 0; sp < nspin; ++sp) {
    const auto nocc = save.filled_bands(sp);
    if (!nocc || *nocc >= nb) return std::nullopt;  // not a band insulator, or no empty band computed
    if (sp == 0) g.nocc = *nocc;
    if (*nocc == 0) {
      // an empty spin channel (is_insulator allows it for lsda): its lowest band is an unoccupied level
      for (Eigen::Index ik = 0; ik < nk; ++ik) g.cbm = std::min(g.cbm, save.eigenvalues(ik, sp * nb));
      continue;
    }
    filled = true;
    const auto e = save.band_edges(sp, *nocc);
    g.vbm = std::max(g.vbm, e.vbm);
    g.cbm = std::min(g.cbm, e.cbm);
    g.direct = std::min(g.direct, e.direct);
  }
  if (!filled) return std::nullopt;
  g.indirect = g.cbm - g.vbm;
  if (!(g.indirect > 0)) return std::nullopt;
  return g;
}

SystemSummary summarize(const Save& save) {
  SystemSummary s;
  s.source = "qe";
  s.path = save.dir.string();
  s.structure = save.structure;
  s.formula = save.structure.formula();
  s.nk = save.nk();
  const auto full = bz::unfold(k_crystal(save), k_rotations(save), save.time_reversal);
  s.nk_full_bz = full.size();
  if (save.mp_grid) {
    s.mp_grid = save.mp_grid->n;
    s.mp_shift = save.mp_grid->shift;
  } else {
    std::vector<Eigen::Vector3d> pts;
    pts.reserve(full.size());
    for (const auto& p : full) pts.push_back(p.k);
    if (auto g = bz::detect_mp_grid(pts)) {
      s.mp_grid = g->n;
      s.mp_shift = g->shift;
    }
  }
  s.nbands = save.nbnd;
  s.nelec = save.nelec;
  if (auto g = ks_gaps(save)) {
    s.gap_indirect_eV = units::Ha_to_eV(g->indirect);
    s.gap_direct_eV = units::Ha_to_eV(g->direct);
  }
  s.ecutwfc_Ry = units::Ha_to_Ry(save.ecutwfc);
  s.ecutrho_Ry = units::Ha_to_Ry(save.ecutrho);
  s.nsym = int(save.symmetries.size());
  s.time_reversal = save.time_reversal;
  s.spin_polarized = save.lsda;
  s.noncollinear = save.noncolin;
  s.functional = save.functional;
  for (const auto& sp : save.species)
    s.pseudopotentials.push_back({sp.z > 0 ? elements::symbol(sp.z) : sp.label, sp.pseudo_file, to_string(sp.kind)});
  return s;
}

}  // namespace rung::qe
