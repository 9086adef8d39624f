#include "io/yambo/qe_save.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "core/brillouin_zone.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "io/yambo/db1.hpp"
#include "io/yambo/netcdf.hpp"
#include "io/yambo/wf.hpp"

namespace rung::yambo {

namespace fs = std::filesystem;

std::optional<fs::path> find_save(const fs::path& path) {
  std::error_code ec;
  if (path.filename() == "data-file-schema.xml" || fs::is_regular_file(path / "data-file-schema.xml", ec))
    return std::nullopt;  // a QE save, also where p2y left a SAVE inside it
  if (fs::is_regular_file(path / "ns.db1", ec)) return path;
  if (fs::is_regular_file(path / "SAVE" / "ns.db1", ec)) return path / "SAVE";
  if (path.filename() == "ns.db1" && fs::is_regular_file(path, ec)) return path.parent_path();
  return std::nullopt;
}

qe::Save as_qe_save(const fs::path& dir) {
  const fs::path db1_path = dir / "ns.db1";
  require_exists(db1_path);
  auto db = std::make_shared<const Db1>(read_db1(db1_path));
  const int nsp = db->n_sp_pol, nk = db->nk;
  if (nk < 1 || db->nbands < 1) fail_input(db1_path, "no k-points or no bands");

  // The wavefunctions: p2y splits them into one fragment per k-point and spin; a SAVE kept for its headers only
  // has ns.wf without them.
  require_exists(dir / "ns.wf");
  {
    const auto wf = NcFile::open(dir / "ns.wf");
    const bool fragmented = wf.has("FRAGMENTED") && wf.read_integral("FRAGMENTED", {1})[0] != 0;
    if (fragmented)
      for (int i = 1; i <= nk * nsp; ++i) {
        const fs::path frag = dir / fmt::format("ns.wf_fragments_{}_1", i);
        std::error_code ec;
        if (!fs::is_regular_file(frag, ec))
          fail_input(frag, fmt::format("missing: this SAVE has no wavefunctions for k-point {}{} (p2y output with the "
                                       "ns.wf_fragments_* removed?); rung needs them to compute spectra",
                                       (i - 1) % nk + 1, nsp > 1 ? ((i - 1) / nk == 0 ? " spin up" : " spin down") : ""));
      }
  }

  qe::Save s;
  s.dir = dir;
  s.xml = db1_path;  // what error messages about the run name
  s.yambo_save = dir;
  s.prefix = "SAVE";
  s.qe_version = fmt::format("YAMBO SAVE (ns.db1 written by YAMBO {}.{}.{})", db->version[0], db->version[1],
                             db->version[2]);
  s.structure = db->structure();
  s.structure.id = dir.string();
  const Eigen::Matrix3d A = db->lattice;  // rows a_i
  s.alat = A.row(0).norm();
  s.reciprocal = 2 * M_PI * A.inverse().transpose();  // rows b_i, a_i·b_j = 2π δ_ij
  for (std::size_t is = 0; is < db->species_z.size(); ++is) {
    qe::Species sp;
    sp.z = db->species_z[is];
    sp.label = elements::symbol(sp.z);
    sp.kind = qe::PseudoKind::norm_conserving;  // p2y refuses ultrasoft/PAW runs
    s.species.push_back(sp);
    for (std::size_t ia = 0; ia < db->atom_pos[is].size(); ++ia) s.atom_species.push_back(int(is));
  }
  s.lsda = nsp == 2;
  s.noncolin = db->n_spinor == 2;
  s.nelec = db->nelec;
  s.nbnd = db->nbands;
  s.functional = "";

  // Symmetries: Cartesian R (the time-reversed half, stored as −R, is left to the time_reversal flag).
  const int nspatial = db->time_reversal ? db->nsym() / 2 : db->nsym();
  const Eigen::Matrix3d At = A.transpose(), Ait = A.transpose().inverse();
  for (int i = 0; i < nspatial; ++i) {
    qe::SymmetryOp op;
    op.rotation_cart = db->symmetries[std::size_t(i)];
    const Eigen::Matrix3d r = Ait * op.rotation_cart * At;  // x' = A^{-T} R A^T x on fractional positions
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        op.rotation(a, b) = int(std::lround(r(a, b)));
        if (std::abs(r(a, b) - op.rotation(a, b)) > 1e-4)
          fail_input(db1_path, fmt::format("symmetry {} is not a rotation of the lattice", i + 1));
      }
    op.name = fmt::format("yambo {}", i + 1);
    s.symmetries.push_back(op);  // p2y refuses non-symmorphic operations: no fractional translation
  }
  s.nrot = nspatial;
  s.time_reversal = db->time_reversal;

  // k-points, their weights (star sizes, as YAMBO unfolds them), energies, plane waves.
  std::vector<Eigen::Vector3d> kc;
  for (int ik = 0; ik < nk; ++ik) {
    s.k_cart.push_back(db->k_cartesian(ik));
    kc.push_back(bz::to_crystal(s.k_cart.back(), s.reciprocal));
  }
  std::vector<Eigen::Matrix3i> krot;
  for (const auto& op : s.symmetries) krot.push_back(bz::k_rotation(op.rotation));
  const auto full = bz::unfold(kc, krot, s.time_reversal, 1e-5, true);
  // ns.db1 keeps no Monkhorst-Pack grid: find the smallest n_d (and QE shift) per axis that holds every irreducible
  // point, k_d = (i + shift/2) / n_d. The weights are then the grid points of each star (QE's weights); without
  // a grid, the star sizes.
  qe::MonkhorstPack mp;
  bool found = true;
  for (int d = 0; d < 3 && found; ++d) {
    found = false;
    for (int n = 1; n <= 96 && !found; ++n)
      for (int shift = 0; shift <= 1 && !found; ++shift) {
        bool all = true;
        for (const auto& k : kc) {
          const double x = k[d] * n - 0.5 * shift;
          all = all && std::abs(x - std::round(x)) < 1e-4;
        }
        if (all) {
          mp.n[std::size_t(d)] = n;
          mp.shift[std::size_t(d)] = shift;
          found = true;
        }
      }
  }
  auto on_grid = [&](const Eigen::Vector3d& k) {
    for (int d = 0; d < 3; ++d) {
      const double x = k[d] * mp.n[std::size_t(d)] - 0.5 * mp.shift[std::size_t(d)];
      if (std::abs(x - std::round(x)) > 1e-4) return false;
    }
    return true;
  };
  s.k_weights.assign(std::size_t(nk), 0.0);
  double total = 0;
  for (const auto& p : full) {
    const double w = found ? (on_grid(p.k) ? 1.0 : 0.0) : 1.0;
    s.k_weights[std::size_t(p.ik_ibz)] += w;
    total += w;
  }
  for (double& w : s.k_weights) w *= 2.0 / total;
  if (found) s.mp_grid = mp;
  s.eigenvalues.resize(nk, nsp * s.nbnd);
  for (int isp = 0; isp < nsp; ++isp)
    for (int ik = 0; ik < nk; ++ik)
      for (int b = 0; b < s.nbnd; ++b) s.eigenvalues(ik, isp * s.nbnd + b) = db->energy(isp, ik, b);
  double emax_pw = 0;
  for (int ik = 0; ik < nk; ++ik) {
    s.npw.push_back(db->wfc_ng[std::size_t(ik)]);
    for (int ic = 0; ic < db->wfc_ng[std::size_t(ik)]; ++ic) {
      const int ig = db->wfc_grid[std::size_t(ik) * std::size_t(db->wf_ncx) + std::size_t(ic)];
      if (ig < 0 || ig >= db->ng) fail_input(db1_path, fmt::format("WFC_GRID of k-point {} points outside the G list", ik + 1));
      emax_pw = std::max(emax_pw, 0.5 * (s.k_cart[std::size_t(ik)] + db->g_cartesian(ig)).squaredNorm());
    }
  }
  s.ecutwfc = emax_pw;  // the largest |k+G|²/2 of the wavefunctions: the cutoff, to within its last shell
  s.ecutrho = 4 * emax_pw;

  // Occupations: ns.db1 keeps none, so these are a guess, not the run's. Unpolarised: the lowest nelec/2 bands
  // filled, noncollinear (spinors, one electron per band): the lowest nelec (qe::Save::is_insulator then tells an
  // insulator, with a gap at every k, from a metal); spin-polarised: the states below a gap common to both
  // channels where there is one (qe::Save::common_gap_filling), else unknown per channel, so the solver's
  // Fermi–Dirac occupations decide (marked as smearing with fractional fillings).
  s.occupations_kb = Eigen::MatrixXd::Zero(nk, nsp * s.nbnd);
  const double filled = db->n_spinor == 2 ? s.nelec : s.nelec / 2;  // bands an insulator fills
  if (nsp == 1 && std::abs(filled - std::round(filled)) < 1e-6) {
    s.occupations = "smearing";
    const int nocc = int(std::clamp<long>(std::lround(filled), 0L, long(s.nbnd)));
    s.occupations_kb.leftCols(nocc).setOnes();
  } else if (const auto fill = s.common_gap_filling()) {
    // spin-polarised with a gap common to both channels: the states below it filled, as YAMBO's Fermi level does
    s.occupations = "smearing";
    for (int sp = 0; sp < 2; ++sp) s.occupations_kb.middleCols(sp * s.nbnd, (*fill)[std::size_t(sp)]).setOnes();
  } else {
    s.occupations = "smearing";
    s.occupations_kb.setConstant(0.5);
  }

  // Wavefunctions, lazily; netCDF-C is not thread-safe, so one reader behind a lock.
  auto reader = std::make_shared<WfReader>(dir, *db);
  auto lock = std::make_shared<std::mutex>();
  s.wavefunction_reader = [db, reader, lock, nsp, k_cart = s.k_cart](int ik, int spin) {
    if (ik < 0 || ik >= db->nk || spin < 0 || spin >= nsp)
      fail(fmt::format("YAMBO SAVE: k-point {} / spin {} out of range", ik, spin));
    KWavefunctions w;
    {
      std::lock_guard<std::mutex> guard(*lock);
      w = reader->read(ik, spin);
    }
    qe::Wavefunction out;
    out.ik = ik;
    out.k_cart = k_cart[std::size_t(ik)];
    out.npol = w.n_spinor;
    out.ngw = w.ng;
    out.miller.resize(w.ng, 3);
    for (int ic = 0; ic < w.ng; ++ic)
      out.miller.row(ic) = db->g_miller(db->wfc_grid[std::size_t(ik) * std::size_t(db->wf_ncx) + std::size_t(ic)]).transpose();
    out.coefficients.resize(Eigen::Index(w.ng) * w.n_spinor, w.nbands);
    for (int ib = 0; ib < w.nbands; ++ib)
      for (int isp = 0; isp < w.n_spinor; ++isp)
        for (int ic = 0; ic < w.ng; ++ic) out.coefficients(Eigen::Index(isp) * w.ng + ic, ib) = w.at(ib, isp, ic);
    return out;
  };
  s.structure.validate(db1_path.string());
  return s;
}

}  // namespace rung::yambo
