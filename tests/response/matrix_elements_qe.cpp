// Matrix elements from real QE runs (fixture qe_runs): the IPA recipe against YAMBO 5.2.4, the unfolding of
// an irreducible run against a nosym run, ρ(G) against a real-space evaluation, the symmetry rotations
// (fractional translations included) and the bad-input errors.
#include <catch2/catch.hpp>
#include <fftw3.h>

#include <chrono>
#include <cmath>
#include <complex>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>
#include <unistd.h>

#include "core/brillouin_zone.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/units.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "response/dipoles.hpp"
#include "response/kb_projectors.hpp"
#include "response/oscillators.hpp"
#include "response/transitions.hpp"
#include "response/wavefunction_rotation.hpp"
#include "support/paths.hpp"

using namespace rung;
using namespace rung::response;
namespace fs = std::filesystem;

namespace {

fs::path save_of(const std::string& name) { return test::qe_save(name, "si"); }

// ε_IP(ω) = 1 − 4π Σ_t w_t |q̂·head_t|² [1/(ω−E+iη) − 1/(ω+E−iη)] (YAMBO's T-ordered IPA, doc/solver-matrix-elements.md): a direct
// sum over every transition of every full-BZ batch.
std::vector<Complex> ipa_direct(TransitionSource& src, const Eigen::Vector3d& qhat, const std::vector<double>& omega,
                                double eta) {
  std::vector<Complex> eps(omega.size(), Complex(1, 0));
  for (std::size_t ik = 0; ik < src.n_full_kpoints(); ++ik) {
    const TransitionBatch b = src.batch(ik);
    for (std::size_t t = 0; t < b.size(); ++t) {
      const Complex h = b.head.row(t).dot(qhat.cast<Complex>());  // dot() conjugates the left side: h = conj(q̂·head)
      const double a = b.weight[t] * std::norm(h);
      const double e = b.energy[t];
      for (std::size_t i = 0; i < omega.size(); ++i)
        eps[i] -= 4 * units::pi * a * (1.0 / Complex(omega[i] - e, eta) - 1.0 / Complex(omega[i] + e, -eta));
    }
  }
  return eps;
}

// YAMBO's grid of the 5.2.4 runs: 0..20 eV, 2001 points, η = 0.3 eV, converted with YAMBO's HA2EV.
std::vector<double> yambo_omega() {
  std::vector<double> w(2001);
  for (int i = 0; i < 2001; ++i) w[i] = 0.01 * i / units::yambo_hartree_eV;
  return w;
}

std::vector<double> part(const std::vector<Complex>& v, bool imag) {
  std::vector<double> out;
  for (auto z : v) out.push_back(imag ? z.imag() : z.real());
  return out;
}

// The last 0-based band b <= max_band such that bands b and b+1 are split by more than `gap` at every k of
// every save (so the window never cuts a degenerate multiplet and band-basis-invariant sums are comparable).
int closed_band_window(const std::vector<const qe::Save*>& saves, int max_band, double gap = 1e-4) {
  for (int b = max_band; b > 0; --b) {
    bool ok = true;
    for (const auto* s : saves)
      for (Eigen::Index k = 0; k < s->eigenvalues.rows() && ok; ++k)
        ok = s->eigenvalues(k, b + 1) - s->eigenvalues(k, b) > gap;
    if (ok) return b;
  }
  return -1;
}

// A_t = (head (3), body): per-k invariant M = Σ_t conj(A_t) A_tᵀ (independent of the band basis inside
// closed degenerate groups; sensitive to every G-dependent phase of the body).
Eigen::MatrixXcd residual_matrix(const TransitionBatch& b) {
  Eigen::MatrixXcd a(b.size(), 3 + b.body.cols());
  a.leftCols(3) = b.head;
  a.rightCols(b.body.cols()) = b.body;
  return a.adjoint() * a;
}

}  // namespace

TEST_CASE("IPA from the native matrix elements reproduces YAMBO 5.2.4 (Si 8x8x8, with and without [Vnl,r])",
          "[reference][matrix_elements][qe]") {
  const auto ref_root = test::shared_reference() / "yambo-5.2.4";
  RUNG_REQUIRE_SHARED(ref_root);
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  RUNG_REQUIRE_FIXTURE("si_gamma_888");
  const auto omega = yambo_omega();
  const double eta = 0.3 / units::yambo_hartree_eV;

  struct Case {
    std::string fixture;
    bool vnl;
    fs::path ref;
    double re0;
    std::size_t nk_irr, nk_full;
  };
  // YAMBO's star set of the shifted grid: 60 irreducible -> 2048 points; the Γ-centred grid is closed: 29 -> 512
  // ("K-points" and "Polarization last K ( bz)" in each run's report r-ip_x_optics_dipoles_chi).
  for (const Case& c : {Case{"si_shifted_888", true, ref_root / "Si" / "yambo_dp" / "o-ip_x.eps_q1_ip", 13.6192, 60, 2048},
                        Case{"si_shifted_888", false, ref_root / "Si" / "yambo_sp_noVnl" / "o-ip_x.eps_q1_ip", 15.9112, 60, 2048},
                        Case{"si_gamma_888", true, ref_root / "Si_gamma8x8x8" / "yambo_sp" / "o-ip_x.eps_q1_ip", 14.79, 29, 512}}) {
    const auto save = qe::Save::read(save_of(c.fixture));
    TransitionOptions opt;
    opt.include_vnl = c.vnl;
    TransitionSource src(save, opt);
    REQUIRE(src.n_irreducible_kpoints() == c.nk_irr);
    REQUIRE(src.n_full_kpoints() == c.nk_full);
    const auto t0 = std::chrono::steady_clock::now();
    const auto eps = ipa_direct(src, Eigen::Vector3d(1, 0, 0), omega, eta);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Spectrum ref = read_any_spectrum(c.ref);
    REQUIRE(ref.size() == omega.size());
    std::vector<double> ev(omega.size());
    for (std::size_t i = 0; i < ev.size(); ++i) ev[i] = omega[i] * units::yambo_hartree_eV;
    const double sc_im = similarity_coefficient(ev, part(eps, true), part(ref.eps, true));
    const double sc_re = similarity_coefficient(ev, part(eps, false), part(ref.eps, false));
    std::cout << "matrix_elements IPA vs YAMBO, " << c.fixture << " (" << (c.vnl ? "with" : "without") << " [Vnl,r]): Re eps(0) = "
              << eps[0].real() << " (YAMBO " << ref.eps[0].real() << "), Im eps(0) = " << eps[0].imag()
              << ", SC(Im) = " << sc_im << ", SC(Re) = " << sc_re << ", direct sum " << secs << " s" << std::endl;
    // The bound is SC >= 0.9999: the recipe is the same as YAMBO's up to the KB tables (p2y: QE's 0.01-spaced
    // table with Lagrange interpolation; here Simpson + Hermite with exact derivatives) and YAMBO's coarse-grid
    // pole grouping (<= 0.3 meV), so it reaches SC 0.99999, 1 - SC ten times below the bound.
    CHECK(sc_im >= 0.9999);
    CHECK(sc_re >= 0.9999);
    // Re eps(0): YAMBO prints 13.6192 (double precision), 15.9112 and 14.79 (single precision) in the first row
    // of each o-ip_x.eps_q1_ip; 5e-4 is YAMBO's own single-vs-double spread (Si's yambo_sp and yambo_dp o-*.eps
    // files differ by up to 4.8e-4 in eps).
    CHECK(eps[0].real() == Approx(c.re0).epsilon(5e-4));
    CHECK(eps[0].real() == Approx(ref.eps[0].real()).epsilon(5e-4));
  }
}

TEST_CASE("dipoles and oscillators unfolded from an irreducible run agree with a nosym run on the same grid",
          "[reference][matrix_elements][qe]") {
  RUNG_REQUIRE_FIXTURE("si_gamma_888");
  RUNG_REQUIRE_FIXTURE("si_gamma_888_nosym");
  const auto irr = qe::Save::read(save_of("si_gamma_888"));
  const auto nos = qe::Save::read(save_of("si_gamma_888_nosym"));
  const int band_last = closed_band_window({&irr, &nos}, 14);
  REQUIRE(band_last >= 4);
  TransitionOptions opt;
  opt.band_last = band_last;
  opt.gblock = closed_shell_gblock(irr, 27);
  REQUIRE(opt.gblock.size() == 27);
  TransitionSource a(irr, opt), b(nos, opt);
  REQUIRE(a.n_irreducible_kpoints() == 29);
  REQUIRE(a.n_full_kpoints() == 512);
  REQUIRE(b.n_full_kpoints() == 512);

  // Match full-BZ points by their crystal coordinates (mod G).
  std::map<std::array<long long, 3>, std::size_t> where;
  auto key = [](const Eigen::Vector3d& k) {
    std::array<long long, 3> out;
    for (int d = 0; d < 3; ++d) out[d] = ((std::llround(k[d] * 8) % 8) + 8) % 8;
    return out;
  };
  for (std::size_t i = 0; i < b.n_full_kpoints(); ++i) where[key(b.full_kpoint(i).k_crystal)] = i;
  REQUIRE(where.size() == 512);

  // Per-k residual matrices (head and body together, so every G-dependent phase, rotation and conjugation
  // enters), and the |ρ|² sums per shell.
  double worst = 0, scale = 0, worst_shell = 0, worst_energy = 0;
  int rotated = 0, reversed = 0;
  for (std::size_t i = 0; i < a.n_full_kpoints(); ++i) {
    const auto fk = a.full_kpoint(i);
    rotated += fk.symmetry != 0;
    reversed += fk.time_reversal < 0;
    const auto it = where.find(key(fk.k_crystal));
    REQUIRE(it != where.end());
    const auto ba = a.batch(i), bb = b.batch(it->second);
    for (std::size_t t = 0; t < ba.size(); ++t) worst_energy = std::max(worst_energy, std::abs(ba.energy[t] - bb.energy[t]));
    const Eigen::MatrixXcd ma = residual_matrix(ba), mb = residual_matrix(bb);
    worst = std::max(worst, (ma - mb).cwiseAbs().maxCoeff());
    scale = std::max(scale, mb.cwiseAbs().maxCoeff());
    // Σ_t |ρ_t(G)|² summed over each shell of the body.
    for (std::size_t g0 = 1; g0 < opt.gblock.size();) {
      std::size_t g1 = g0;
      const double len = (irr.reciprocal.transpose() * opt.gblock[g0].cast<double>()).norm();
      while (g1 < opt.gblock.size() && std::abs((irr.reciprocal.transpose() * opt.gblock[g1].cast<double>()).norm() - len) < 1e-6) ++g1;
      const double sa = ba.body.middleCols(g0 - 1, g1 - g0).squaredNorm();
      const double sb = bb.body.middleCols(g0 - 1, g1 - g0).squaredNorm();
      worst_shell = std::max(worst_shell, std::abs(sa - sb) / sb);
      g0 = g1;
    }
  }
  REQUIRE(rotated > 400);   // most points come from a non-trivial rotation ...
  REQUIRE(reversed > 0);    // ... and some from time reversal
  const auto omega = yambo_omega();
  const double eta = 0.3 / units::yambo_hartree_eV;
  const auto ea = ipa_direct(a, Eigen::Vector3d(1, 0, 0), omega, eta);
  const auto eb = ipa_direct(b, Eigen::Vector3d(1, 0, 0), omega, eta);
  double dmax = 0, emax = 0;
  for (std::size_t i = 0; i < ea.size(); ++i) {
    dmax = std::max(dmax, std::abs(ea[i] - eb[i]));
    emax = std::max(emax, std::abs(eb[i]));
  }
  std::cout << "matrix_elements irreducible vs nosym (bands 1.." << band_last + 1 << ", 27 G): max |ΔM| / max|M| = "
            << worst / scale << ", shell |ρ|² rel. " << worst_shell << ", IPA max|Δε|/max|ε| = " << dmax / emax
            << " (Re eps(0) " << ea[0].real() << " vs " << eb[0].real() << "); max |ΔE_t| = " << worst_energy << " Ha"
            << std::endl;
  // Both nscf runs start from the same scf density (fixture si_gamma_888_nosym), so the Hamiltonians are
  // identical and the energies agree to round-off (measured 2e-13 Ha). The eigenvectors come from two iterative
  // diagonalisations converged to ~1e-10 and differ only inside that accuracy (measured 7e-9 in M, 1e-8 in the
  // shell sums), and the IPA spectra agree to 4e-10 relative: 1e-8 holds with margin. A wrong
  // permutation, phase or conjugation in the unfolding changes M at the 1e-1 level.
  CHECK(worst_energy < 1e-10);
  CHECK(worst / scale < 1e-7);
  CHECK(worst_shell < 1e-7);
  CHECK(dmax / emax < 1e-8);
}

TEST_CASE("rho(G) by G-space convolution matches a real-space FFT evaluation, and rho(0) is the overlap",
          "[reference][matrix_elements][qe]") {
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto save = qe::Save::read(save_of("si_shifted_888"));
  const auto wf = save.read_wavefunction(3);
  const int nb = int(wf.coefficients.cols());
  // Orthonormality: the body formula at G = 0 gives <c|v> = δ_cv.
  const Eigen::MatrixXcd self = oscillators(wf.miller, wf.coefficients, wf.coefficients, {Eigen::Vector3i::Zero()});
  const Eigen::Map<const Eigen::MatrixXcd> ov(self.data(), nb, nb);
  CHECK((ov - Eigen::MatrixXcd::Identity(nb, nb)).cwiseAbs().maxCoeff() < 1e-10);

  // Real space: ψ(r) on an FFT box large enough that conj(ψ_c) ψ_v e^{iG·r} is not aliased, then
  // ρ(G) = (1/N) Σ_r conj(ψ_c(r)) e^{iG·r} ψ_v(r).
  const auto block = closed_shell_gblock(save, 113);
  int nmax = 0, gmax = 0;
  for (Eigen::Index i = 0; i < wf.miller.rows(); ++i) nmax = std::max(nmax, wf.miller.row(i).cwiseAbs().maxCoeff());
  for (const auto& g : block) gmax = std::max(gmax, g.cwiseAbs().maxCoeff());
  const int n = 4 * nmax + 2 * gmax + 2;
  const std::size_t ntot = std::size_t(n) * n * n;
  auto to_real = [&](int band) {
    std::vector<Complex> box(ntot, 0);
    for (Eigen::Index i = 0; i < wf.miller.rows(); ++i) {
      const int a = (wf.miller(i, 0) + n) % n, b = (wf.miller(i, 1) + n) % n, c = (wf.miller(i, 2) + n) % n;
      box[(std::size_t(a) * n + b) * n + c] = wf.coefficients(i, band);
    }
    fftw_plan p = fftw_plan_dft_3d(n, n, n, reinterpret_cast<fftw_complex*>(box.data()),
                                   reinterpret_cast<fftw_complex*>(box.data()), FFTW_BACKWARD, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    return box;  // Σ_G c(G) e^{+2πi m·x}
  };
  const int nocc = save.occupied_bands();
  const std::vector<std::pair<int, int>> pairs = {{0, nocc}, {3, nocc + 2}, {1, 15}, {2, nocc + 5}};
  const std::vector<Eigen::Vector3i> body(block.begin() + 1, block.end());
  double worst = 0;
  for (auto [v, c] : pairs) {
    const auto pv = to_real(v), pc = to_real(c);
    std::vector<Complex> prod(ntot);
    for (std::size_t i = 0; i < ntot; ++i) prod[i] = std::conj(pc[i]) * pv[i];
    // Forward-with-plus-sign transform: FFTW_BACKWARD gives Σ_r f(r) e^{+2πi m·x}.
    fftw_plan p = fftw_plan_dft_3d(n, n, n, reinterpret_cast<fftw_complex*>(prod.data()),
                                   reinterpret_cast<fftw_complex*>(prod.data()), FFTW_BACKWARD, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    const Eigen::MatrixXcd rho = oscillators(wf.miller, wf.coefficients.col(c), wf.coefficients.col(v), body);
    for (std::size_t g = 0; g < body.size(); ++g) {
      const int a = (body[g][0] + n) % n, b = (body[g][1] + n) % n, cc = (body[g][2] + n) % n;
      const Complex direct = prod[(std::size_t(a) * n + b) * n + cc] / double(ntot);
      worst = std::max(worst, std::abs(direct - rho(0, g)));
    }
  }
  CHECK(worst < 1e-10);
}

TEST_CASE("symmetry rotations with fractional translations: little group at k and star members of rho and dipoles",
          "[reference][matrix_elements][qe]") {
  // si_tiny: scf without force_symmorphic, 48 operations of which 24 carry a fractional translation.
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto save = qe::Save::read(save_of("si_tiny"));
  const auto ops = space_group_ops(save);
  REQUIRE(ops.size() == 48);
  int with_ft = 0;
  for (const auto& op : ops) with_ft += op.translation.norm() > 1e-8;
  REQUIRE(with_ft == 24);

  // 1. Little group: for S with s·S k ≡ k, the rotated states of a closed degenerate group must span the
  //    same subspace as the original ones. Checked on the occupied bands, which the scf converges tightly
  //    (ethr 2e-11); QE converges the empty bands of an scf only to ~1e-5, so they get a 1e-4 bound. As a
  //    negative control, the opposite sign of the fractional translation must fail.
  const int nb = 8, nocc_tiny = save.occupied_bands();
  int checked = 0;
  double worst_occ = 0, worst_all = 0, worst_flipped_ft = 0;
  for (int ik = 0; ik < int(save.nk()); ++ik) {
    const auto wf = save.read_wavefunction(ik);
    const Eigen::Vector3d kc = bz::to_crystal(wf.k_cart, save.reciprocal);
    MillerLookup lookup(wf.miller);
    for (const auto& op0 : ops)
      for (int flip : {1, -1})
        for (int s : {1, -1}) {
          SpaceGroupOp op = op0;
          op.translation *= double(flip);
          const bool has_ft = op.translation.norm() > 1e-8;
          if (flip < 0 && !has_ft) continue;
          const Eigen::Vector3d kr = double(s) * (op.k_rotation.cast<double>() * kc);
          const Eigen::Vector3d d = kr - kc;
          if (((d.array() - d.array().round()).abs() > 1e-6).any()) continue;
          const Eigen::Vector3i g0 = d.array().round().cast<int>();
          const auto rw = rotate_wavefunction(wf, op, s, save.reciprocal);
          // Coefficients of the rotated states on the original plane-wave list (k' = k + G0).
          Eigen::MatrixXcd c(wf.miller.rows(), nb);
          c.setZero();
          for (Eigen::Index i = 0; i < rw.miller.rows(); ++i) {
            const int j = lookup.find(Eigen::Vector3i(rw.miller.row(i).transpose()) + g0);
            REQUIRE(j >= 0);
            c.row(j) = rw.coefficients.row(i).head(nb);
          }
          const Eigen::MatrixXcd o = wf.coefficients.leftCols(nb).adjoint() * c;  // nb x nb
          for (int b0 = 0; b0 < nb;) {
            int b1 = b0 + 1;
            while (b1 < nb && save.eigenvalues(ik, b1) - save.eigenvalues(ik, b1 - 1) < 1e-4) ++b1;
            if (b1 == nb && save.nbnd > nb) break;  // the group may continue above the computed bands
            for (int j = b0; j < b1; ++j) {
              const double dev = std::abs(o.block(b0, j, b1 - b0, 1).squaredNorm() - 1);
              if (flip < 0) worst_flipped_ft = std::max(worst_flipped_ft, dev);
              else if (j < nocc_tiny) worst_occ = std::max(worst_occ, dev);
              else worst_all = std::max(worst_all, dev);
            }
            b0 = b1;
          }
          checked += flip > 0;
        }
  }
  std::cout << "matrix_elements little-group check: " << checked << " (k, S, s) combinations, worst 1 - |P psi|^2 = "
            << worst_occ << " (occupied), " << worst_all << " (empty), " << worst_flipped_ft
            << " (fractional translation with the wrong sign)" << std::endl;
  REQUIRE(checked > 48);
  CHECK(worst_occ < 1e-8);
  CHECK(worst_all < 1e-4);
  CHECK(worst_flipped_ft > 0.1);

  // 2. Star members: batch() (permutation + phase + conjugation of the irreducible ρ and rotation of the
  //    velocity) against direct evaluation on the explicitly rotated wavefunctions, [V_nl, r] included.
  TransitionOptions opt;
  opt.gblock = closed_shell_gblock(save, 27);
  TransitionSource src(save, opt);
  REQUIRE(src.n_full_kpoints() == 64);
  const KBProjectors kb(save, std::sqrt(2 * save.ecutwfc) * 1.05 + 0.5);
  const int nocc = save.occupied_bands(), nc = nb - nocc;
  const std::vector<Eigen::Vector3i> body(opt.gblock.begin() + 1, opt.gblock.end());
  double worst_rho = 0, worst_head = 0;
  int ft_members = 0;
  for (std::size_t i = 0; i < src.n_full_kpoints(); ++i) {
    const auto fk = src.full_kpoint(i);
    ft_members += ops[fk.symmetry].translation.norm() > 1e-8;
    const auto b = src.batch(i);
    const auto rw = rotate_wavefunction(save.read_wavefunction(fk.ik_irreducible), ops[fk.symmetry], fk.time_reversal,
                                        save.reciprocal);
    const Eigen::MatrixXcd c = rw.coefficients.leftCols(nb);
    const Eigen::MatrixXcd rho = oscillators(rw.miller, c.rightCols(nc), c.leftCols(nocc), body);
    worst_rho = std::max(worst_rho, (rho - b.body).cwiseAbs().maxCoeff());
    const auto vel = velocity_matrix_elements(rw.k_cart, rw.miller, save.reciprocal, c, nocc, &kb);
    for (int v = 0; v < nocc; ++v)
      for (int cc = 0; cc < nc; ++cc)
        for (int al = 0; al < 3; ++al) {
          const int t = v * nc + cc;
          const Complex direct = std::conj(vel[al](v, cc)) / b.energy[t];
          worst_head = std::max(worst_head, std::abs(direct - b.head(t, al)));
        }
  }
  std::cout << "matrix_elements star members vs rotated wavefunctions: rho " << worst_rho << ", head " << worst_head
            << " (" << ft_members << " of " << src.n_full_kpoints() << " members from operations with f != 0)"
            << std::endl;
  REQUIRE(ft_members > 0);
  CHECK(worst_rho < 1e-12);
  CHECK(worst_head < 1e-9);
}

TEST_CASE("bad input gives clear errors", "[reference][matrix_elements][qe]") {
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto save = qe::Save::read(save_of("si_tiny"));
  auto message = [&](const qe::Save& s, const TransitionOptions& o) -> std::string {
    try {
      TransitionSource src(s, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  using Catch::Matchers::Contains;
  TransitionOptions o;
  o.band_last = 8;  // nbnd = 8, 0-based last is 7
  CHECK_THAT(message(save, o), Contains("beyond the 8 bands"));
  o = {};
  o.band_last = 3;
  CHECK_THAT(message(save, o), Contains("no conduction band"));
  o = {};
  o.band_first = 4;
  CHECK_THAT(message(save, o), Contains("no valence band"));
  o = {};
  o.gblock = closed_shell_gblock(save, 2000);
  CHECK_THAT(message(save, o), Contains("beyond the wavefunction cutoff") && Contains(std::to_string(max_gblock_size(save))));
  o = {};
  o.gblock = {Eigen::Vector3i::Zero(), Eigen::Vector3i(1, 0, 0)};  // not a closed shell
  CHECK_THAT(message(save, o), Contains("not closed"));
  o = {};
  o.gblock = {Eigen::Vector3i(1, 0, 0)};
  CHECK_THAT(message(save, o), Contains("must start with G = (0 0 0)"));

  // Unsupported runs (the flags as the reader sets them).
  auto s2 = save;
  s2.lsda = true;  // without the second channel's eigenvalues
  CHECK_THAT(message(s2, {}), Contains("spin channels"));
  s2 = save;
  s2.noncolin = true;  // spin-orbit is no longer refused (this relabelled run fails later: 8 spinor bands, none empty)
  s2.spinorbit = true;
  CHECK(message(s2, {}).find("spin-orbit") == std::string::npos);
  // A metal (QE's occupations) whose highest band is still partly occupied: no empty band above it.
  s2 = save;
  s2.occupations = "smearing";
  s2.occupations_kb(0, 3) = 0.5;
  s2.occupations_kb(0, 7) = 0.5;
  TransitionOptions metal;
  OccupationOptions qe_occ;
  qe_occ.source = OccupationSource::qe;
  metal.occupations = std::make_shared<const Occupations>(compute_occupations(s2, qe_occ));
  CHECK_THAT(message(s2, metal), Contains("too few empty bands") && Contains("band 8"));

  // A non-uniform k set: the weights no longer match a uniform grid.
  s2 = save;
  s2.k_weights[1] *= 2;
  CHECK_THAT(message(s2, {}), Contains("uniform"));
  s2 = save;
  s2.k_cart.pop_back();
  s2.k_weights.pop_back();
  s2.eigenvalues.conservativeResize(s2.eigenvalues.rows() - 1, Eigen::NoChange);
  CHECK_THAT(message(s2, {}), Contains("uniform"));

  // An ultrasoft pseudopotential: a copy of the save whose UPF is Debian's ultrasoft Si.
  const fs::path us = "/usr/share/espresso/pseudo/Si.pbe-nl-rrkjus_psl.1.0.0.UPF";
  RUNG_SKIP_UNLESS(test::have(us), "needs Debian's Si.pbe-nl-rrkjus_psl.1.0.0.UPF");
  const fs::path dir = fs::temp_directory_path() / ("rung_me_us_" + std::to_string(::getpid())) / "si.save";
  fs::create_directories(dir);
  fs::copy_file(save.xml, dir / "data-file-schema.xml", fs::copy_options::overwrite_existing);
  fs::copy_file(us, dir / save.species[0].pseudo_file, fs::copy_options::overwrite_existing);
  std::string msg;
  try {
    const auto s3 = qe::Save::read(dir);
    msg = message(s3, {});
  } catch (const Error& e) {
    msg = e.what();
  }
  fs::remove_all(dir.parent_path());
  CHECK_THAT(msg, Contains(save.species[0].pseudo_file) && Contains("norm-conserving"));
}

// Every star member of every irreducible k gets its batch, with all 4 x 12 transitions of the 16-band
// run. The time this takes is measured by the solver benchmarks (bench/: the "transitions" stage of
// bench_solver_yambo on the same case), not asserted here.
TEST_CASE("batch() covers the 2048 points of Si shifted 8x8x8 with 48 transitions each (113 G)",
          "[reference][matrix_elements][qe]") {
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto save = qe::Save::read(save_of("si_shifted_888"));
  TransitionOptions opt;
  opt.gblock = closed_shell_gblock(save, 113);
  REQUIRE(opt.gblock.size() == 113);
  TransitionSource src(save, opt);
  std::size_t nt = 0, points = 0, short_batches = 0;
  for (std::size_t ik = 0; ik < src.n_irreducible_kpoints(); ++ik)
    for (const auto member : src.star(ik)) {
      const std::size_t n = src.batch(member).size();
      nt += n;
      ++points;
      if (n != 48) ++short_batches;
    }
  CHECK(points == 2048);
  CHECK(short_batches == 0);
  CHECK(nt == 2048 * 48);
}

TEST_CASE("head and body together give YAMBO's RPA with local fields (Si shifted 8x8x8, 27 G, selected frequencies)",
          "[reference][matrix_elements][qe]") {
  // An end-to-end check of the oscillator conventions (sign of G, conjugation, rotation, phases): chi0 on the
  // augmented basis a_t = (q̂·head_t, ρ_t(G_b)) at a few frequencies by a direct sum, then the bar-v Dyson
  // equation (doc/solver.md, Dyson). The fast chi0/Dyson route belongs to the solver; this is a
  // slow, independent reference for the matrix elements only.
  const auto ref_file = test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_dp" / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson";
  RUNG_REQUIRE_SHARED(ref_file);
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto save = qe::Save::read(save_of("si_shifted_888"));
  TransitionOptions opt;
  opt.gblock = closed_shell_gblock(save, 27);
  REQUIRE(opt.gblock.size() == 27);
  TransitionSource src(save, opt);
  const Spectrum ref = read_any_spectrum(ref_file);
  REQUIRE(ref.size() == 2001);
  REQUIRE(ref.eps_nolf);
  const std::vector<int> picks = {0, 250, 340, 370, 420, 480, 600};  // 0, 2.5, 3.4, 3.7, 4.2, 4.8, 6 eV
  const double eta = 0.3 / units::yambo_hartree_eV;
  const int n = 27;
  std::vector<Eigen::MatrixXcd> chi(picks.size(), Eigen::MatrixXcd::Zero(n, n));
  for (std::size_t ik = 0; ik < src.n_full_kpoints(); ++ik) {
    const auto b = src.batch(ik);
    Eigen::MatrixXcd a(b.size(), n);
    a.col(0) = b.head.col(0);  // q̂ = x
    a.rightCols(n - 1) = b.body;
    for (std::size_t p = 0; p < picks.size(); ++p) {
      const double w = 0.01 * picks[p] / units::yambo_hartree_eV;
      Eigen::VectorXcd f(b.size());
      for (std::size_t t = 0; t < b.size(); ++t)
        f[t] = b.weight[t] * (1.0 / Complex(w - b.energy[t], eta) - 1.0 / Complex(w + b.energy[t], -eta));
      chi[p].noalias() += a.adjoint() * f.asDiagonal() * a;  // Σ_t w_t F_t conj(a_t) a_tᵀ
    }
  }
  double worst_lf = 0, worst_o = 0;
  for (std::size_t p = 0; p < picks.size(); ++p) {
    const Eigen::MatrixXcd& c = chi[p];
    Eigen::VectorXcd v(n - 1);
    for (int g = 1; g < n; ++g) v[g - 1] = 4 * units::pi / (save.reciprocal.transpose() * opt.gblock[g].cast<double>()).squaredNorm();
    const Eigen::MatrixXcd kernel = Eigen::MatrixXcd::Identity(n - 1, n - 1) - c.bottomRightCorner(n - 1, n - 1) * v.asDiagonal();
    const Eigen::VectorXcd x = kernel.partialPivLu().solve(c.col(0).tail(n - 1));
    const Complex eps_o = 1.0 - 4 * units::pi * c(0, 0);
    const Complex eps_lf = 1.0 - 4 * units::pi * (c(0, 0) + c.row(0).tail(n - 1).transpose().cwiseProduct(v).cwiseProduct(x).sum());
    const Complex ref_lf = ref.eps[picks[p]], ref_o = (*ref.eps_nolf)[picks[p]];
    std::cout << "matrix_elements RPA-LF 27 G at " << ref.energy_eV[picks[p]] << " eV: eps_LF " << eps_lf << " (YAMBO "
              << ref_lf << "), eps_o " << eps_o << " (YAMBO " << ref_o << ")" << std::endl;
    worst_lf = std::max(worst_lf, std::abs(eps_lf - ref_lf) / std::abs(ref_lf));
    worst_o = std::max(worst_o, std::abs(eps_o - ref_o) / std::abs(ref_o));
  }
  // An independent implementation of the same equations reproduced these files to 2e-5 (12.5593 vs 12.5591 at 0 eV); 5e-4 is
  // YAMBO's single-vs-double spread. A sign or conjugation error in ρ(G) moves ε_LF by percents.
  CHECK(worst_o < 5e-4);
  CHECK(worst_lf < 5e-4);
}

TEST_CASE("IPA of YAMBO's own regression test (Si 4x4x4 shifted, 32 bands: 10 -> 256 k)",
          "[reference][matrix_elements][qe]") {
  const auto ref_file = test::shared_reference() / "yambo-tests" / "Si_bulk-GW-OPTICS" / "REFERENCE" / "o-05_IP-RPA_len_dir_G.eps_q1_ip";
  RUNG_REQUIRE_SHARED(ref_file);
  const auto dir = test::qe_runs() / "yambo_tests_si" / "out" / "Si.save";
  RUNG_REQUIRE_FIXTURE("yambo_tests_si");
  const auto save = qe::Save::read(dir);
  TransitionSource src(save, {});
  REQUIRE(src.n_irreducible_kpoints() == 10);
  // YAMBO's star set, not the 64 grid points ("BZ  Q-points" in r-05_IP-RPA_len_dir_G_optics_chi)
  REQUIRE(src.n_full_kpoints() == 256);
  const Spectrum ref = read_any_spectrum(ref_file);
  REQUIRE(ref.size() == 500);
  std::vector<double> omega;
  for (double e : ref.energy_eV) omega.push_back(e / units::yambo_hartree_eV);
  const auto eps = ipa_direct(src, Eigen::Vector3d(1, 0, 0), omega, 0.1 / units::yambo_hartree_eV);
  const double sc_im = similarity_coefficient(ref.energy_eV, part(eps, true), part(ref.eps, true));
  const double sc_re = similarity_coefficient(ref.energy_eV, part(eps, false), part(ref.eps, false));
  std::cout << "matrix_elements IPA vs yambo-tests Si (YAMBO 5.0, QE 5.0.2 inputs rerun with QE 6.7): Re eps(0) = "
            << eps[0].real() << " (YAMBO " << ref.eps[0].real() << "), Im eps(0) = " << eps[0].imag() << " ("
            << ref.eps[0].imag() << "), SC(Im) = " << sc_im << ", SC(Re) = " << sc_re << std::endl;
  // The spec expected only SC ≈ 0.99 here (QE 5.0.2 wrote the reference's wavefunctions, YAMBO 5.0 in single
  // precision); measured 0.99999 and Re ε(0) to 1e-5, so 0.999 and 1e-3 leave room only for precision effects.
  CHECK(sc_im >= 0.999);
  CHECK(sc_re >= 0.999);
  CHECK(eps[0].real() == Approx(ref.eps[0].real()).epsilon(1e-3));
}

TEST_CASE("batch() from several threads gives the serial result", "[reference][matrix_elements][qe]") {
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto save = qe::Save::read(save_of("si_tiny"));
  TransitionOptions opt;
  opt.gblock = closed_shell_gblock(save, 15);
  TransitionSource serial(save, opt), shared(save, opt);
  const std::size_t n = serial.n_full_kpoints();
  std::vector<TransitionBatch> got(n);
  // Both threads walk the whole zone from different ends, so they meet on the same irreducible slots.
  std::thread t1([&] { for (std::size_t i = 0; i < n; i += 2) got[i] = shared.batch(i); });
  std::thread t2([&] { for (std::size_t i = n; i-- > 0;) if (i % 2) got[i] = shared.batch(i); });
  t1.join();
  t2.join();
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = serial.batch(i);
    worst = std::max({worst, (b.head - got[i].head).cwiseAbs().maxCoeff(), (b.body - got[i].body).cwiseAbs().maxCoeff()});
  }
  CHECK(worst == 0.0);
  shared.clear_cache();
  CHECK((shared.batch(3).body - serial.batch(3).body).cwiseAbs().maxCoeff() == 0.0);
}
