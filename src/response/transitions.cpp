#include "response/transitions.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "core/brillouin_zone.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "response/dipoles.hpp"
#include "response/gblock.hpp"
#include "response/kb_projectors.hpp"
#include "response/oscillators.hpp"
#include "response/wavefunction_rotation.hpp"

namespace rung::response {

namespace {

// YAMBO's DipoleEtresh: i<v|r|c> = 0 when |E_c - E_v| <= 1e-5 eV (never for an insulator's window).
constexpr double dipole_energy_threshold = 1e-5 / units::hartree_eV;
// YAMBO: transitions with |E| < 1e-5 Ha at q = 0 (metals only) are left out of chi0 (they are the Drude part).
constexpr double zero_energy_threshold = 1e-5;
// Cache budget for the irreducible-k matrix elements.
constexpr std::size_t cache_budget_bytes = std::size_t(1) << 30;

std::string g_text(const Eigen::Vector3i& g) { return fmt::format("({} {} {})", g[0], g[1], g[2]); }

}  // namespace

// ------------------------------------------------------------------------------------------------
// G blocks

std::vector<Eigen::Vector3i> closed_shell_gblock(const qe::Save& save, int n_min) {
  if (n_min < 1) fail_usage(fmt::format("the G block needs at least 1 vector (asked for {})", n_min));
  const auto count = static_cast<std::size_t>(n_min);
  // The product's rule (gblock.hpp): the closed shells of the wavefunction sphere, as `--gblock n_min` selects them.
  if (closed_shells(save.reciprocal, save.ecutwfc).size() >= count)
    return select_gblock(save.reciprocal, GBlockRequest::of_count(count), save.ecutwfc, save.xml).miller;
  // Beyond the sphere (tests of TransitionSource's refusal): the same rule on a larger sphere, grown until a complete
  // shell follows the one the n_min-th vector falls in (the outermost shell of a sphere may be cut by it).
  double energy = std::max(save.ecutwfc, 1.0);
  for (int attempt = 0; attempt < 30; ++attempt, energy *= 2) {
    const GBlock sphere = closed_shells(save.reciprocal, energy);
    if (sphere.shell_end.size() >= 2 && sphere.shell_end[sphere.shell_end.size() - 2] >= count)
      return select_gblock(save.reciprocal, GBlockRequest::of_count(count), energy, save.xml).miller;
  }
  fail(fmt::format("closed_shell_gblock: could not enumerate the G shells of {} vectors", n_min));
}

int max_gblock_size(const qe::Save& save) {
  const double gmax = std::sqrt(2.0 * save.ecutwfc) * (1 + 1e-10);
  int count = 0;
  Eigen::Vector3i nmax;
  for (int d = 0; d < 3; ++d) nmax[d] = int(std::ceil(gmax * save.structure.lattice.row(d).norm() / units::two_pi)) + 1;
  for (int i = -nmax[0]; i <= nmax[0]; ++i)
    for (int j = -nmax[1]; j <= nmax[1]; ++j)
      for (int k = -nmax[2]; k <= nmax[2]; ++k)
        if ((save.reciprocal.transpose() * Eigen::Vector3d(i, j, k)).norm() <= gmax) ++count;
  return count;
}

// ------------------------------------------------------------------------------------------------

struct TransitionSource::Impl {
  // What is computed once per irreducible k (the expensive part); every star member is a permutation,
  // phase and conjugation of it. (Nested, not in an anonymous namespace: the file may be compiled in a unity batch.)
  struct IrreducibleData {
    Eigen::Matrix<Complex, Eigen::Dynamic, 3> velocity;  // nt x 3: <c|v|v> (Cartesian, a.u.)
    Eigen::MatrixXcd body;                               // nt x (nG-1): ρ_k(G_b)
    std::vector<double> energy;                          // nt
    std::vector<double> weight;                          // nt: w_t (the same for every star member)
    std::vector<int> valence, conduction, spin;          // nt
    std::size_t bytes() const {
      return sizeof(Complex) * std::size_t(velocity.size() + body.size()) + 2 * sizeof(double) * energy.size() +
             3 * sizeof(int) * valence.size();
    }
  };

  qe::Save save;
  TransitionOptions opt;
  std::vector<SpaceGroupOp> ops;
  std::vector<bz::FullZonePoint> full;
  std::vector<std::vector<std::size_t>> stars;
  std::unique_ptr<KBProjectors> kb;
  std::shared_ptr<const Occupations> occ;
  int n_occ = 0, nv = 0, nc = 0;   // insulator window (spin channel 0 for metals / lsda)
  int nspin = 1;
  bool by_occupation = false;      // metal or lsda: per-channel ranges and f_v − f_c weights
  std::vector<int> v_top, c_bottom;  // per channel: highest valence, lowest conduction band (0-based)
  double omega = 0;
  std::vector<double> member_fraction;  // per irreducible k: the share of the zone each of its star members carries
  std::string sampling;                 // how the k set samples the zone (provenance)
  std::map<std::pair<int, int>, BlockRotation> rotations;  // (symmetry, s) -> block map

  // Cache of irreducible data: per-slot lock so that threads working on different stars compute in parallel.
  struct Slot {
    std::mutex mutex;
    std::shared_ptr<const IrreducibleData> data;
    std::atomic<std::uint64_t> last_use{0};
  };
  std::vector<std::unique_ptr<Slot>> slots;
  std::atomic<std::uint64_t> clock{0};
  std::atomic<std::size_t> cached_bytes{0};

  Impl(const qe::Save& s, TransitionOptions o) : save(s), opt(std::move(o)) {
    occ = opt.occupations ? opt.occupations : std::make_shared<const Occupations>(compute_occupations(save));
    nspin = save.lsda ? 2 : 1;
    by_occupation = occ->metal || nspin > 1;
    validate_system();
    validate_bands();
    unfold();
    validate_grid();
    validate_block();
    if (opt.include_vnl) kb = std::make_unique<KBProjectors>(save, std::sqrt(2.0 * save.ecutwfc) * 1.05 + 0.5);
    for (std::size_t i = 0; i < save.nk(); ++i) slots.push_back(std::make_unique<Slot>());
  }

  void validate_system() {
    const auto& xml = save.xml;
    if (save.gamma_only)
      fail_input(xml, "gamma_only run (half G sphere, real wavefunctions): rerun pw.x with K_POINTS automatic");
    if (occ->f.rows() != Eigen::Index(save.nk()) || occ->nbnd != save.nbnd || occ->n_spin != nspin)
      fail("TransitionSource: the occupations do not belong to this save");
    for (const auto& sp : save.species)
      if (sp.kind == qe::PseudoKind::ultrasoft || sp.kind == qe::PseudoKind::paw)
        fail_input(sp.pseudo_path, to_string(sp.kind) +
                                       " pseudopotential: the native optics solver supports norm-conserving "
                                       "pseudopotentials only (ultrasoft/PAW need augmentation terms)");
    if (save.nk() == 0) fail_input(xml, "no k-points");
    if (save.eigenvalues.rows() != Eigen::Index(save.nk()) || save.eigenvalues.cols() < nspin * save.nbnd)
      fail_input(xml, "eigenvalue table does not match the k-points and bands");
    omega = save.structure.volume();
    if (!(omega > 0)) fail_input(xml, "non-positive cell volume");
  }

  // The band window, defaulted to every band, must be non-empty and inside the save's bands.
  void check_window(int nbnd, const std::string& where) {
    if (opt.band_last < 0) opt.band_last = nbnd - 1;
    if (opt.band_first < 0 || opt.band_first > opt.band_last)
      fail_usage(fmt::format("band range {}..{} (1-based) is empty or negative", opt.band_first + 1, opt.band_last + 1));
    if (opt.band_last >= nbnd)
      fail_usage(fmt::format("band range {}..{} (1-based) goes beyond the {} bands of {}", opt.band_first + 1,
                             opt.band_last + 1, nbnd, where));
  }

  void validate_bands() {
    if (by_occupation) return validate_bands_by_occupation();
    n_occ = save.occupied_bands();
    const int nbnd = save.nbnd;
    const auto where = save.xml.string();
    check_window(nbnd, where);
    if (opt.band_first >= n_occ)
      fail_usage(fmt::format("band range {}..{} (1-based) contains no valence band (the {} occupied bands are 1..{})",
                             opt.band_first + 1, opt.band_last + 1, n_occ, n_occ));
    if (opt.band_last < n_occ)
      fail_usage(fmt::format("band range {}..{} (1-based) contains no conduction band (the first empty band is {}; "
                             "{} has {} bands)",
                             opt.band_first + 1, opt.band_last + 1, n_occ + 1, where, nbnd));
    nv = n_occ - opt.band_first;
    nc = opt.band_last - n_occ + 1;
  }

  // Metals and lsda: per spin channel, valence = window bands up to the highest partly occupied one,
  // conduction = from the lowest partly empty one. The window must hold every partly occupied band and at
  // least one band above them (else transitions out of the occupied states are missing).
  void validate_bands_by_occupation() {
    const int nbnd = save.nbnd;
    const auto where = save.xml.string();
    check_window(nbnd, where);
    v_top.assign(std::size_t(nspin), 0);
    c_bottom.assign(std::size_t(nspin), 0);
    for (int s = 0; s < nspin; ++s) {
      const int lo = occ->lowest_partial[std::size_t(s)], hi = occ->highest_partial[std::size_t(s)];
      const std::string channel = nspin > 1 ? (s == 0 ? " (spin up)" : " (spin down)") : "";
      if (hi >= nbnd - 1)
        fail_input(save.xml, fmt::format("band {}, the highest of the run, is still occupied{} (f up to {:.3g}): too "
                                         "few empty bands for optics; rerun pw.x with a larger nbnd",
                                         nbnd, channel, occupation_of_band(s, nbnd - 1)));
      if (hi < 0) continue;  // an empty channel contributes nothing
      if (opt.band_last <= hi)
        fail_usage(fmt::format("band range {}..{} (1-based) ends at or below band {}, which is still occupied{}: the "
                               "window needs empty bands above the partly occupied ones",
                               opt.band_first + 1, opt.band_last + 1, hi + 1, channel));
      if (opt.band_first > lo)
        fail_usage(fmt::format("band range {}..{} (1-based) starts above band {}, which is partly occupied{}: the "
                               "window must contain every partly occupied band",
                               opt.band_first + 1, opt.band_last + 1, lo + 1, channel));
      // an insulating channel's "partly occupied" range starts at its first empty band: a window starting there
      // holds no occupied band of the channel, no transition, and would give eps = 1 as if it were a result
      if (opt.band_first > hi)
        fail_usage(
            fmt::format("band range {}..{} (1-based) starts above band {}, the highest occupied one{}: the "
                        "window contains no valence band",
                        opt.band_first + 1, opt.band_last + 1, hi + 1, channel));
      v_top[std::size_t(s)] = hi;
      c_bottom[std::size_t(s)] = lo;
    }
    n_occ = c_bottom[0];
    // channel 0 empty (a fully polarised lsda run): no valence band there, so none counted (never negative)
    const bool empty0 = occ->highest_partial[0] < 0;
    nv = empty0 ? 0 : std::max(0, v_top[0] - opt.band_first + 1);
    nc = empty0 ? 0 : std::max(0, opt.band_last - c_bottom[0] + 1);
  }

  double occupation_of_band(int s, int b) const {
    double m = 0;
    for (Eigen::Index ik = 0; ik < occ->f.rows(); ++ik) m = std::max(m, occ->at(ik, s, b));
    return m;
  }

  void unfold(bool merge_across_stars = true) {
    ops = space_group_ops(save);
    std::vector<Eigen::Matrix3i> krot;
    for (const auto& op : ops) krot.push_back(op.k_rotation);
    // merge_across_stars: a proper irreducible set has disjoint stars (no effect); a set that is not
    // reduced (nosym without noinv: time reversal pairs listed twice) is not double counted.
    full = bz::unfold(listed_crystal(), krot, save.time_reversal, 1e-5, merge_across_stars);
    stars.assign(save.nk(), {});
    for (std::size_t i = 0; i < full.size(); ++i) stars[full[i].ik_ibz].push_back(i);
  }

  std::vector<Eigen::Vector3d> listed_crystal() const {
    std::vector<Eigen::Vector3d> kc;
    for (const auto& k : save.k_cart) kc.push_back(bz::to_crystal(k, save.reciprocal));
    return kc;
  }

  void require_disjoint_stars() const {
    for (std::size_t ik = 0; ik < save.nk(); ++ik)
      if (stars[ik].empty())
        fail_input(save.xml, fmt::format("k-point {} is equivalent by symmetry to an earlier one: the k set is not "
                                         "an irreducible set",
                                         ik + 1));
  }

  // Every star member of a Monkhorst-Pack grid carries 1/N_k of the zone.
  void set_uniform_members(std::string description) {
    member_fraction.assign(save.nk(), 1.0 / double(full.size()));
    sampling = std::move(description);
  }

  // The k set must sample the zone uniformly, in one of two ways:
  //  - a Monkhorst-Pack grid or its irreducible wedge: each irreducible point's star covers as many grid points
  //    as QE's weight says and the stars tile the grid; every star member carries 1/N_k (YAMBO's star rule);
  //  - a uniform grid with any offset listed point by point with equal weights (an explicit K_POINTS list, as
  //    in a workflow that shifts its grid off every symmetric point): the symmetrised quadrature, in which
  //    each listed point's weight is spread evenly over its star, so that the sum is the average of the
  //    grid's images under the crystal's operations, each of them a uniform sampling of the zone.
  void validate_grid() {
    if (save.mp_grid) {
      require_disjoint_stars();
      validate_mp_grid(*save.mp_grid);
      const auto& g = *save.mp_grid;
      return set_uniform_members(fmt::format("Monkhorst-Pack grid {}x{}x{} (shift {} {} {})", g.n[0], g.n[1], g.n[2],
                                             g.shift[0], g.shift[1], g.shift[2]));
    }
    bool disjoint = true;
    for (const auto& st : stars) disjoint = disjoint && !st.empty();
    std::vector<Eigen::Vector3d> pts;
    for (const auto& p : full) pts.push_back(p.k);
    if (disjoint)
      if (const auto g = bz::detect_mp_grid(pts))
        return set_uniform_members(
            fmt::format("explicit list unfolding to the Monkhorst-Pack grid {}x{}x{} (shift "
                        "{} {} {})",
                        g->n[0], g->n[1], g->n[2], g->shift[0], g->shift[1], g->shift[2]));
    const auto listed = bz::detect_uniform_grid(listed_crystal());
    if (!listed)
      fail_input(save.xml,
                 "the k-points are not a uniform grid: an explicit list that, unfolded by the symmetries, "
                 "is no Monkhorst-Pack grid, and whose points are no uniform grid either (a uniform grid "
                 "with any offset, listed point by point with equal weights, is accepted): optics needs a "
                 "uniform sampling");
    double wsum = 0, wmin = 1e300, wmax = 0;
    for (double w : save.k_weights) {
      wsum += w;
      wmin = std::min(wmin, w);
      wmax = std::max(wmax, w);
    }
    if (save.k_weights.size() != save.nk() || !(wmin > 0) || (wmax - wmin) > 1e-6 * wmax)
      fail_input(save.xml, fmt::format("the {} listed k-points form a uniform {}x{}x{} grid but their weights are "
                                       "not all equal ({:.6g} to {:.6g}): not a uniform sampling",
                                       save.nk(), listed->n[0], listed->n[1], listed->n[2], wmin, wmax));
    // Each listed point's own star (no merging: two listed points may share images, each keeps its weight).
    unfold(false);
    member_fraction.resize(save.nk());
    for (std::size_t ik = 0; ik < save.nk(); ++ik)
      member_fraction[ik] = (save.k_weights[ik] / wsum) / double(stars[ik].size());
    const auto& o = listed->offset;
    sampling = fmt::format(
        "uniform grid {}x{}x{} with offset ({:.6g} {:.6g} {:.6g}) listed point by point, each "
        "point's weight spread over its star ({} operation{}{})",
        listed->n[0], listed->n[1], listed->n[2], o[0], o[1], o[2], ops.size(), ops.size() == 1 ? "" : "s",
        save.time_reversal ? " and time reversal" : "");
  }

  void validate_mp_grid(const qe::MonkhorstPack& g) const {
    const double ngrid = double(g.n[0]) * g.n[1] * g.n[2];
    if (ngrid <= 0) fail_input(save.xml, "Monkhorst-Pack grid with a zero dimension");
    auto on_grid = [&](const Eigen::Vector3d& k) {
      for (int d = 0; d < 3; ++d) {
        const double x = k[d] * g.n[d] - 0.5 * g.shift[d];
        if (std::abs(x - std::round(x)) > 1e-4) return false;
      }
      return true;
    };
    double wsum = 0;
    for (double w : save.k_weights) wsum += w;
    std::size_t covered = 0;
    for (std::size_t ik = 0; ik < save.nk(); ++ik) {
      std::size_t n = 0;
      for (std::size_t i : stars[ik]) n += on_grid(full[i].k) ? 1 : 0;
      covered += n;
      const double expect = ik < save.k_weights.size() && wsum > 0 ? save.k_weights[ik] / wsum * ngrid : -1;
      if (n == 0 || (expect >= 0 && std::abs(double(n) - expect) > 1e-3))
        fail_input(save.xml, fmt::format("k-point {} does not belong to the uniform {}x{}x{} grid of the run as its "
                                         "weight says ({} grid points in its star, weight implies {:.3f}): optics "
                                         "needs a uniform sampling",
                                         ik + 1, g.n[0], g.n[1], g.n[2], n, expect));
    }
    if (double(covered) != ngrid)
      fail_input(save.xml, fmt::format("the k-points cover {} of the {} points of the {}x{}x{} grid: not a uniform "
                                       "sampling",
                                       covered, ngrid, g.n[0], g.n[1], g.n[2]));
  }

  // g (f_v − f_c) / Ω times the share of the zone a star member of irreducible point ik carries (1/N_k on a
  // Monkhorst-Pack grid); f per state in [0, 1], g = 2 (unpolarised) or 1 (per lsda channel).
  double transition_weight(std::size_t ik) const { return occ->spin_factor * member_fraction[ik] / omega; }

  void validate_block() {
    const auto& block = opt.gblock;
    if (block.empty() || block[0] != Eigen::Vector3i::Zero())
      fail_usage("the G block must start with G = (0 0 0)");
    MillerMatrix m(block.size(), 3);
    for (std::size_t b = 0; b < block.size(); ++b) m.row(b) = block[b].transpose();
    MillerLookup lookup(m);  // throws on duplicates
    const double gmax = std::sqrt(2.0 * save.ecutwfc) * (1 + 1e-10);
    for (const auto& g : block) {
      const double gn = (save.reciprocal.transpose() * g.cast<double>()).norm();
      if (gn > gmax)
        fail_usage(fmt::format("G = {} of the block (|G|²/2 = {:.3f} Ha) lies beyond the wavefunction cutoff "
                               "ecutwfc = {:.3f} Ha of {}: ρ(G) would be truncated. The largest allowed block "
                               "has {} G-vectors",
                               g_text(g), 0.5 * gn * gn, save.ecutwfc, save.xml.string(), max_gblock_size(save)));
    }
    for (const auto& p : full) {
      const auto key = std::make_pair(p.isym, p.time_reversal);
      if (!rotations.count(key)) rotations.emplace(key, rotate_block(block, ops[p.isym], p.time_reversal));
    }
  }

  // ρ(G) summed over the spinor components (one component for collinear runs).
  Eigen::MatrixXcd spinor_oscillators(const qe::Wavefunction& wf, const Eigen::MatrixXcd& bra,
                                      const Eigen::MatrixXcd& ket, const std::vector<Eigen::Vector3i>& g) const {
    const auto p = opt.body_precision;
    if (wf.npol == 1) return oscillators(wf.miller, bra, ket, g, p);
    const Eigen::Index n = wf.ngw;
    Eigen::MatrixXcd r = oscillators(wf.miller, bra.topRows(n), ket.topRows(n), g, p);
    r += oscillators(wf.miller, bra.bottomRows(n), ket.bottomRows(n), g, p);
    return r;
  }

  // A wavefunction file read at irreducible point ik (spin channel s) must be a full G sphere with the run's spinor
  // components and hold the band window.
  void check_wavefunction(const qe::Wavefunction& wf, std::size_t ik, int s) const {
    const auto file = save.wavefunction_file(int(ik), s);
    if (wf.gamma_only) fail_input(file, "gamma_only wavefunctions (half G sphere): not supported");
    if (wf.npol != (save.noncolin ? 2 : 1)) fail_input(file, fmt::format("{} spinor components per band", wf.npol));
    if (wf.coefficients.cols() <= opt.band_last)
      fail_input(file, fmt::format("holds {} bands, the window needs {}", wf.coefficients.cols(), opt.band_last + 1));
  }

  std::shared_ptr<const IrreducibleData> compute(std::size_t ik) const {
    if (by_occupation) return compute_by_occupation(ik);
    const qe::Wavefunction wf = save.read_wavefunction(int(ik));
    check_wavefunction(wf, ik, 0);
    const Eigen::MatrixXcd C = wf.coefficients.middleCols(opt.band_first, nv + nc);

    auto data = std::make_shared<IrreducibleData>();
    const int nt = nv * nc;
    // Velocity <v|v|c> (bra = valence, ket = conduction), stored as <c|v|v> = conj.
    const auto vel = velocity_matrix_elements(wf.k_cart, wf.miller, save.reciprocal, C, nv, kb.get());
    data->velocity.resize(nt, 3);
    data->energy.resize(nt);
    for (int v = 0; v < nv; ++v)
      for (int c = 0; c < nc; ++c) {
        const int t = v * nc + c;
        for (int al = 0; al < 3; ++al) data->velocity(t, al) = std::conj(vel[al](v, c));
        data->energy[t] = save.eigenvalues(Eigen::Index(ik), n_occ + c) - save.eigenvalues(Eigen::Index(ik), opt.band_first + v);
      }
    // Body: ρ_t(G) = <c|e^{iG·r}|v>, row v·nc + c (bra = conduction, ket = valence).
    const std::vector<Eigen::Vector3i> body_g(opt.gblock.begin() + 1, opt.gblock.end());
    if (!body_g.empty()) data->body = spinor_oscillators(wf, C.rightCols(nc), C.leftCols(nv), body_g);
    else data->body.resize(nt, 0);
    data->weight.assign(std::size_t(nt), transition_weight(ik));
    for (int v = 0; v < nv; ++v)
      for (int c = 0; c < nc; ++c) {
        data->valence.push_back(opt.band_first + v);
        data->conduction.push_back(n_occ + c);
      }
    data->spin.assign(std::size_t(nt), 0);
    return data;
  }

  // Metals and lsda: every spin channel, pairs (v < c) with f_v ≠ f_c, weight g (f_v − f_c)/(N_k Ω).
  std::shared_ptr<const IrreducibleData> compute_by_occupation(std::size_t ik) const {
    auto data = std::make_shared<IrreducibleData>();
    const std::vector<Eigen::Vector3i> body_g(opt.gblock.begin() + 1, opt.gblock.end());
    const Eigen::Index nbody = Eigen::Index(body_g.size());
    std::vector<Eigen::Matrix<Complex, 1, 3>> vel_rows;
    std::vector<Eigen::RowVectorXcd> body_rows;
    for (int s = 0; s < nspin; ++s) {
      const int vt = v_top[std::size_t(s)], cb = c_bottom[std::size_t(s)];
      if (occ->highest_partial[std::size_t(s)] < 0) continue;
      const int snv = vt - opt.band_first + 1, snc = opt.band_last - cb + 1;
      // The pairs this channel contributes at this k.
      std::vector<std::pair<int, int>> pairs;  // (v index, c index) into the ranges
      for (int v = 0; v < snv; ++v)
        for (int c = 0; c < snc; ++c) {
          const int bv = opt.band_first + v, bc = cb + c;
          if (bc <= bv) continue;
          const double df = occ->at(Eigen::Index(ik), s, bv) - occ->at(Eigen::Index(ik), s, bc);
          const double de = save.eigenvalues(Eigen::Index(ik), s * save.nbnd + bc) -
                            save.eigenvalues(Eigen::Index(ik), s * save.nbnd + bv);
          // YAMBO: zero-energy (intraband-like) poles never enter the Lorentzian sum (only a Drude term).
          // f_v < f_c (population inversion) happens only with QE's Methfessel-Paxton / Marzari-Vanderbilt
          // occupations, which overshoot 1 near the Fermi level: those few pairs are left out (the spectral
          // route needs w_t >= 0; doc/solver.md).
          if (df <= occupation_epsilon || de < zero_energy_threshold) continue;
          pairs.push_back({v, c});
        }
      if (pairs.empty()) continue;
      const qe::Wavefunction wf = save.read_wavefunction(int(ik), s);
      check_wavefunction(wf, ik, s);
      Eigen::MatrixXcd C(wf.coefficients.rows(), snv + snc);
      C.leftCols(snv) = wf.coefficients.middleCols(opt.band_first, snv);
      C.rightCols(snc) = wf.coefficients.middleCols(cb, snc);
      const auto vel = velocity_matrix_elements(wf.k_cart, wf.miller, save.reciprocal, C, snv, kb.get());
      Eigen::MatrixXcd body;
      if (nbody > 0) body = spinor_oscillators(wf, C.rightCols(snc), C.leftCols(snv), body_g);
      for (const auto& [v, c] : pairs) {
        const int bv = opt.band_first + v, bc = cb + c;
        Eigen::Matrix<Complex, 1, 3> row;
        for (int al = 0; al < 3; ++al) row(al) = std::conj(vel[al](v, c));
        vel_rows.push_back(row);
        if (nbody > 0) body_rows.push_back(body.row(Eigen::Index(v) * snc + c));
        data->energy.push_back(save.eigenvalues(Eigen::Index(ik), s * save.nbnd + bc) -
                               save.eigenvalues(Eigen::Index(ik), s * save.nbnd + bv));
        data->weight.push_back(transition_weight(ik) *
                               (occ->at(Eigen::Index(ik), s, bv) - occ->at(Eigen::Index(ik), s, bc)));
        data->valence.push_back(bv);
        data->conduction.push_back(bc);
        data->spin.push_back(s);
      }
    }
    const Eigen::Index nt = Eigen::Index(vel_rows.size());
    data->velocity.resize(nt, 3);
    data->body.resize(nt, nbody);
    for (Eigen::Index t = 0; t < nt; ++t) {
      data->velocity.row(t) = vel_rows[std::size_t(t)];
      if (nbody > 0) data->body.row(t) = body_rows[std::size_t(t)];
    }
    return data;
  }

  std::shared_ptr<const IrreducibleData> irreducible(std::size_t ik) {
    Slot& slot = *slots.at(ik);
    std::shared_ptr<const IrreducibleData> d;
    {
      std::lock_guard<std::mutex> lock(slot.mutex);
      if (!slot.data) {
        slot.data = compute(ik);
        cached_bytes += slot.data->bytes();
      }
      d = slot.data;
      slot.last_use = ++clock;
    }
    if (cached_bytes > cache_budget_bytes) evict(ik);
    return d;
  }

  // Drop least recently used entries (other than `keep`) until the cache is within budget. A slot's data is read
  // under its lock only (other threads assign it under that lock); try_lock: a slot another thread holds (computing
  // it, or evicting) is simply skipped.
  void evict(std::size_t keep) {
    while (cached_bytes > cache_budget_bytes / 2) {
      std::size_t victim = slots.size();
      std::uint64_t oldest = ~std::uint64_t(0);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (i == keep) continue;
        std::unique_lock<std::mutex> lock(slots[i]->mutex, std::try_to_lock);
        if (lock.owns_lock() && slots[i]->data && slots[i]->last_use < oldest) {
          oldest = slots[i]->last_use;
          victim = i;
        }
      }
      if (victim == slots.size()) return;
      std::unique_lock<std::mutex> lock(slots[victim]->mutex, std::try_to_lock);
      if (!lock.owns_lock()) return;
      if (slots[victim]->data) {
        cached_bytes -= slots[victim]->data->bytes();
        slots[victim]->data.reset();
      }
    }
  }

  // The unrotated batch of irreducible point ik (ik_full = -1 until a caller places it).
  TransitionBatch irreducible_batch(std::size_t ik) {
    if (ik >= std::size_t(save.nk()))
      fail(fmt::format("TransitionSource::irreducible_batch: k index {} out of range ({} irreducible points)", ik, save.nk()));
    const auto d = irreducible(ik);
    const int nt = int(d->energy.size());
    TransitionBatch b;
    b.ik_full = -1;
    b.valence = d->valence;
    b.conduction = d->conduction;
    b.spin = d->spin;
    b.energy = d->energy;
    b.weight = d->weight;
    // Head: ρ_t(0)/q0 = q̂·<c|v|v>/ΔE.
    b.head = d->velocity;
    for (int t = 0; t < nt; ++t) {
      const double de = d->energy[t];
      if (std::abs(de) <= dipole_energy_threshold) b.head.row(t).setZero();
      else b.head.row(t) /= de;
    }
    b.body = d->body;
    return b;
  }

  // Head of a star member: q̂·(S <c|v|v>)/ΔE, and -conj of that for a time-reversed member. Body: the
  // permutation G -> S⁻¹G (or -S⁻¹G), phase e^{iG·f}, conjugation for time reversal.
  RowImage image(std::size_t ik_full) const {
    if (ik_full >= full.size())
      fail(fmt::format("TransitionSource::image: k index {} out of range ({} full-BZ points)", ik_full, full.size()));
    const auto& p = full[ik_full];
    const SpaceGroupOp& op = ops[p.isym];
    RowImage im;
    im.head_matrix = op.cartesian.transpose().cast<Complex>();
    if (p.time_reversal < 0) im.head_matrix = -im.head_matrix;
    im.head_conjugate = p.time_reversal < 0;
    const auto& rot = rotations.at({p.isym, p.time_reversal});
    const std::size_t nbody = opt.gblock.size() - 1;
    im.body_conjugate = rot.conjugate;
    im.source.resize(nbody);
    im.phase.resize(nbody);
    for (std::size_t g = 0; g < nbody; ++g) {
      im.source[g] = rot.source[g + 1] - 1;  // G ≠ 0 never maps to G = 0
      im.phase[g] = rot.phase[g + 1];
    }
    return im;
  }

  TransitionBatch batch(std::size_t ik_full) {
    if (ik_full >= full.size())
      fail(fmt::format("TransitionSource::batch: k index {} out of range ({} full-BZ points)", ik_full, full.size()));
    TransitionBatch b = irreducible_batch(std::size_t(full[ik_full].ik_ibz));
    b.ik_full = int(ik_full);
    const RowImage im = image(ik_full);
    if (im.head_conjugate) b.head = b.head.conjugate().eval();
    b.head = (b.head * im.head_matrix).eval();
    Eigen::MatrixXcd body(b.body.rows(), Eigen::Index(im.source.size()));
    for (Eigen::Index g = 0; g < body.cols(); ++g) {
      if (im.body_conjugate) body.col(g) = im.phase[g] * b.body.col(im.source[g]).conjugate();
      else body.col(g) = im.phase[g] * b.body.col(im.source[g]);
    }
    b.body = std::move(body);
    return b;
  }
};

TransitionSource::TransitionSource(const qe::Save& save, TransitionOptions options)
    : impl_(std::make_unique<Impl>(save, std::move(options))) {}
TransitionSource::~TransitionSource() = default;
TransitionSource::TransitionSource(TransitionSource&&) noexcept = default;
TransitionSource& TransitionSource::operator=(TransitionSource&&) noexcept = default;

std::size_t TransitionSource::n_full_kpoints() const { return impl_->full.size(); }
const std::string& TransitionSource::k_sampling() const { return impl_->sampling; }
std::size_t TransitionSource::n_irreducible_kpoints() const { return impl_->save.nk(); }
double TransitionSource::volume() const { return impl_->omega; }
const TransitionOptions& TransitionSource::options() const { return impl_->opt; }
TransitionBatch TransitionSource::batch(std::size_t ik_full) { return impl_->batch(ik_full); }
TransitionBatch TransitionSource::irreducible_batch(std::size_t ik_irr) { return impl_->irreducible_batch(ik_irr); }
RowImage TransitionSource::image(std::size_t ik_full) const { return impl_->image(ik_full); }
std::vector<std::size_t> TransitionSource::star(std::size_t ik_irr) const { return impl_->stars.at(ik_irr); }
int TransitionSource::n_valence() const { return impl_->nv; }
int TransitionSource::n_conduction() const { return impl_->nc; }
const Occupations& TransitionSource::occupations() const { return *impl_->occ; }

Eigen::Matrix3d TransitionSource::intraband_tensor(std::size_t ik_irr, double kT) const {
  const auto& I = *impl_;
  const auto& save = I.save;
  Eigen::Matrix3d at_k = Eigen::Matrix3d::Zero();
  for (int s = 0; s < I.nspin; ++s) {
    const double mu = I.occ->level(s);
    int lo = I.occ->lowest_partial[std::size_t(s)], hi = I.occ->highest_partial[std::size_t(s)];
    if (hi < lo) lo = save.nbnd, hi = -1;  // no partly occupied band: only those the Drude temperature reaches
    // the bands within 40 kT of the level at some k, at any k-point of the run (the same range at every k)
    for (Eigen::Index ik = 0; ik < save.eigenvalues.rows(); ++ik)
      for (int b = 0; b < save.nbnd; ++b)
        if (std::abs(save.eigenvalues(ik, s * save.nbnd + b) - mu) <= 40 * kT)
          lo = std::min(lo, b), hi = std::max(hi, b);
    if (hi < lo) continue;  // nothing near this channel's level
    const qe::Wavefunction wf = save.read_wavefunction(int(ik_irr), s);
    I.check_wavefunction(wf, ik_irr, s);  // as compute() does: the window holds the partly occupied bands
    if (wf.coefficients.cols() <= hi)
      fail_input(save.wavefunction_file(int(ik_irr), s),
                 fmt::format("holds {} bands; the Drude term at this temperature reaches band {}",
                             wf.coefficients.cols(), hi + 1));
    const int nb = hi - lo + 1;
    Eigen::MatrixXcd C(wf.coefficients.rows(), 2 * nb);
    C.leftCols(nb) = wf.coefficients.middleCols(lo, nb);
    C.rightCols(nb) = wf.coefficients.middleCols(lo, nb);
    const auto vel = velocity_matrix_elements(wf.k_cart, wf.miller, save.reciprocal, C, nb, I.kb.get());
    auto e = [&](int b) { return save.eigenvalues(Eigen::Index(ik_irr), s * save.nbnd + lo + b); };
    for (int n = 0; n < nb; ++n) {
      Eigen::Matrix3d vv = Eigen::Matrix3d::Zero();
      for (int m = 0; m < nb; ++m) {
        if (std::abs(e(m) - e(n)) >= zero_energy_threshold) continue;  // the degenerate group of n
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) vv(a, b) += std::real(vel[a](n, m) * vel[b](m, n));
      }
      add_intraband(at_k, I.occ->spin_factor, e(n), mu, kT, vv);
    }
  }
  // Star members: S v for each rotation (time reversal flips v, which leaves v vᵀ unchanged).
  Eigen::Matrix3d sum = Eigen::Matrix3d::Zero();
  for (std::size_t i : I.stars.at(ik_irr)) {
    const Eigen::Matrix3d R = I.ops[I.full[i].isym].cartesian;
    sum += R * at_k * R.transpose();
  }
  return I.member_fraction.at(ik_irr) * sum;
}

TransitionSource::FullKpoint TransitionSource::full_kpoint(std::size_t ik_full) const {
  const auto& p = impl_->full.at(ik_full);
  return {p.k, p.ik_ibz, p.isym, p.time_reversal};
}

void TransitionSource::clear_cache() {
  for (auto& s : impl_->slots) {
    std::lock_guard<std::mutex> lock(s->mutex);
    s->data.reset();
  }
  impl_->cached_bytes = 0;
}

}  // namespace rung::response
