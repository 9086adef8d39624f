#include "response/kb_projectors.hpp"

#include <cmath>
#include <map>
#include <numbers>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/qe/upf.hpp"
#include "io/yambo/db1.hpp"
#include "io/yambo/kb.hpp"
#include "response/spherical_harmonics.hpp"
#include "response/spin_angular.hpp"

namespace rung::response {

void bessel_over_power(int l_max, double x, double* out) {
  x = std::abs(x);
  if (x < 4.0) {
    // Power series h_l(x) = Σ_n (-x²/2)^n / (n! (2l+2n+1)!!): at most one digit lost for x < 4.
    double dfact = 1.0;  // (2l+1)!!
    for (int l = 0; l <= l_max; ++l) {
      if (l > 0) dfact *= double(2 * l + 1);
      double term = 1.0 / dfact, sum = term;
      const double y = -0.5 * x * x;
      for (int n = 1; n < 60; ++n) {
        term *= y / (double(n) * double(2 * l + 2 * n + 1));
        sum += term;
        if (std::abs(term) < 1e-18 * std::abs(sum)) break;
      }
      out[l] = sum;
    }
    return;
  }
  // Upward recursion j_{l+1} = (2l+1)/x j_l - j_{l-1}: stable enough for x >= 4 and l <= 6.
  const double s = std::sin(x), c = std::cos(x);
  double jm = s / x;                  // j_0
  double j = s / (x * x) - c / x;     // j_1
  double xl = 1.0;
  out[0] = jm;
  if (l_max >= 1) out[1] = j / x;
  xl = x;
  for (int l = 1; l < l_max; ++l) {
    const double jp = double(2 * l + 1) / x * j - jm;
    jm = j;
    j = jp;
    xl *= x;
    out[l + 1] = j / xl;
  }
}

double simpson(const double* f, const double* rab, int n) {
  // QE's simpson (upflib/simpsn.f90): the integral over the first n points, weights from rab.
  constexpr double r12 = 1.0 / 3.0;
  double sum = 0;
  double f3 = f[0] * rab[0] * r12;
  for (int i = 1; i + 1 < n; i += 2) {
    const double f1 = f3;
    const double f2 = f[i] * rab[i] * r12;
    f3 = f[i + 1] * rab[i + 1] * r12;
    sum += f1 + 4.0 * f2 + f3;
  }
  return sum;
}

void RadialFormFactor::integrate(int l, const std::vector<double>& r, const std::vector<double>& rab,
                                 const std::vector<double>& rbeta, double q, double& g, double& g1, double& g2) {
  const int n = int(rbeta.size());
  std::vector<double> f0(n), f1(n), f2(n);
  double h[8];
  for (int i = 0; i < n; ++i) {
    const double ri = r[i], b = rbeta[i];
    bessel_over_power(l + 2, q * ri, h);
    const double rl = std::pow(ri, l);
    f0[i] = ri * b * rl * h[l];                       // g    = ∫ r b r^l h_l(qr)
    f1[i] = -b * rl * ri * ri * ri * h[l + 1];        // g'/q = -∫ b r^{l+3} h_{l+1}(qr)
    f2[i] = b * rl * std::pow(ri, 5) * h[l + 2];      // (g'/q)'/q = ∫ b r^{l+5} h_{l+2}(qr)
  }
  g = simpson(f0.data(), rab.data(), n);
  g1 = simpson(f1.data(), rab.data(), n);
  g2 = simpson(f2.data(), rab.data(), n);
}

RadialFormFactor::RadialFormFactor(int l, const std::vector<double>& r, const std::vector<double>& rab,
                                   const std::vector<double>& rbeta, double q_max, double dq)
    : l_(l), dq_(dq) {
  const int nq = int(std::ceil(q_max / dq)) + 2;
  g_.resize(nq);
  g1_.resize(nq);
  g2_.resize(nq);
  for (int iq = 0; iq < nq; ++iq) integrate(l, r, rab, rbeta, iq * dq, g_[iq], g1_[iq], g2_[iq]);
}

void RadialFormFactor::evaluate(double q, double& g, double& g1) const {
  const double x = q / dq_;
  int i = int(x);
  if (i < 0 || i + 1 >= int(g_.size())) {
    if (q <= q_max() * (1 + 1e-12) && i + 1 == int(g_.size())) {
      i = int(g_.size()) - 2;
    } else {
      fail("KB form factor requested at |k+G| = " + std::to_string(q) + " beyond its table (" +
           std::to_string(q_max()) + " Bohr^-1)");
    }
  }
  const double t = x - i, t2 = t * t, t3 = t2 * t;
  const double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t, h01 = -2 * t3 + 3 * t2, h11 = t3 - t2;
  const double q0 = i * dq_, q1 = (i + 1) * dq_;
  // Slopes: g' = q G1 and G1' = q G2.
  g = h00 * g_[i] + h10 * dq_ * q0 * g1_[i] + h01 * g_[i + 1] + h11 * dq_ * q1 * g1_[i + 1];
  g1 = h00 * g1_[i] + h10 * dq_ * q0 * g2_[i] + h01 * g1_[i + 1] + h11 * dq_ * q1 * g2_[i + 1];
}

struct KBProjectors::Tables {
  std::vector<Eigen::Vector3d> k_cart;
  std::vector<yambo::KbTables> by_k;
  std::vector<int> species_of_atom;
};

void KBProjectors::from_yambo_save(const qe::Save& save) {
  const auto& dir = save.yambo_save;
  if (!yambo::has_kb_pp(dir))
    fail_input(dir / "ns.kb_pp_pwscf", "missing: without p2y's KB tables the [V_nl, r] term cannot be computed (give "
                                       "--no-vnl to leave it out, as YAMBO does then)");
  const yambo::Db1 db = yambo::read_db1(dir / "ns.db1");
  const yambo::KbHeader h = yambo::read_kb_header(dir, db);
  auto t = std::make_shared<Tables>();
  for (int ik = 0; ik < db.nk; ++ik) {
    t->k_cart.push_back(db.k_cartesian(ik));
    t->by_k.push_back(yambo::read_kb_tables(h, db, ik));
  }
  atom_species_ = save.atom_species;
  for (std::size_t a = 0; a < save.structure.size(); ++a) tau_.push_back(save.structure.cartesian(a));
  for (std::size_t a = 0; a < atom_species_.size(); ++a) {
    const int is = atom_species_[a];
    if (is >= h.nspecies) fail_input(dir / "ns.kb_pp_pwscf", "fewer species than ns.db1");
    for (int ip = 0; ip < h.nproj; ++ip) {
      const int l = h.l_plus_1(ip, is) - 1;
      if (l < 0) continue;
      if (h.two_j(ip, is) != 0)
        fail_input(dir / "ns.kb_pp_pwscf", "spin-orbit (j-dependent) projectors: not supported by the native solver");
      if (l > max_harmonic_l) fail_input(dir / "ns.kb_pp_pwscf", "projector with l > 3");
      for (int m = 0; m < harmonic_count(l); ++m) channels_.push_back({int(a), ip, l, m});
    }
  }
  const std::size_t n = channels_.size();
  d_ = Eigen::MatrixXd::Zero(n, n);
  // p2y's KB already carries sqrt(|D|) and the normalisation of rung's β: the coupling is the sign alone
  // (Σ β D β† equals the UPF route's V_nl to 1e-6 on Si, tests/response/yambo_save_reference.cpp).
  for (std::size_t i = 0; i < n; ++i) d_(i, i) = h.sign(channels_[i].beta, atom_species_[channels_[i].atom]);
  if (save.noncolin) {  // spinors without spin-orbit: the same D on both components
    d_spin_ = Eigen::MatrixXcd::Zero(2 * Eigen::Index(n), 2 * Eigen::Index(n));
    d_spin_.topLeftCorner(Eigen::Index(n), Eigen::Index(n)) = d_.cast<std::complex<double>>();
    d_spin_.bottomRightCorner(Eigen::Index(n), Eigen::Index(n)) = d_.cast<std::complex<double>>();
  }
  tables_ = std::move(t);
  prefactor_ = 1.0;
}

KBProjectors::KBProjectors(const qe::Save& save, double q_max) : reciprocal_(save.reciprocal) {
  const double omega = save.structure.volume();
  prefactor_ = 4.0 * std::numbers::pi / std::sqrt(omega);
  if (!save.yambo_save.empty()) {
    from_yambo_save(save);
    return;
  }

  std::vector<upf::Pseudopotential> pps;
  for (const auto& sp : save.species) {
    if (sp.kind == qe::PseudoKind::ultrasoft || sp.kind == qe::PseudoKind::paw)
      fail_input(sp.pseudo_path, to_string(sp.kind) +
                                     " pseudopotential: the native optics solver supports norm-conserving "
                                     "pseudopotentials only");
    auto pp = upf::Pseudopotential::read(sp.pseudo_path);
    if (pp.kind != qe::PseudoKind::norm_conserving)
      fail_input(pp.file, to_string(pp.kind) +
                              " pseudopotential: the native optics solver supports norm-conserving "
                              "pseudopotentials only");
    if (pp.relativistic_spin_orbit && !save.spinorbit)
      fail_input(pp.file,
                 "fully relativistic pseudopotential in a run without spin-orbit (pw.x averages its j "
                 "channels then): not supported by the native solver; use it with lspinorb = .true. or "
                 "use a scalar-relativistic pseudopotential");
    if (pp.dij.size() != std::size_t(pp.nbeta()) * pp.nbeta())
      fail_input(pp.file, "PP_DIJ has " + std::to_string(pp.dij.size()) + " entries, expected nbeta^2 = " +
                              std::to_string(pp.nbeta() * pp.nbeta()));
    std::vector<RadialFormFactor> ff;
    for (const auto& proj : pp.projectors) {
      if (proj.l < 0 || proj.l > max_harmonic_l)
        fail_input(pp.file, "projector with l = " + std::to_string(proj.l) + " (only l <= 3 is supported)");
      if (proj.rbeta.size() > pp.r.size() || proj.rbeta.size() > pp.rab.size() || proj.rbeta.empty())
        fail_input(pp.file, "projector longer than the radial mesh");
      for (double v : proj.rbeta)
        if (!std::isfinite(v)) fail_input(pp.file, "non-finite value in PP_BETA");
      ff.emplace_back(proj.l, pp.r, pp.rab, proj.rbeta, q_max);
    }
    form_factors_.push_back(std::move(ff));
    species_names_.push_back(fmt::format("{} ({})", sp.label, pp.file.string()));
    pps.push_back(std::move(pp));
  }

  atom_species_ = save.atom_species;
  for (std::size_t a = 0; a < save.structure.size(); ++a) tau_.push_back(save.structure.cartesian(a));
  for (std::size_t a = 0; a < atom_species_.size(); ++a) {
    const auto& pp = pps.at(atom_species_[a]);
    for (int b = 0; b < pp.nbeta(); ++b)
      for (int m = 0; m < harmonic_count(pp.projectors[b].l); ++m)
        channels_.push_back({int(a), b, pp.projectors[b].l, m, pp.projectors[b].j});
  }
  const std::size_t n = channels_.size();
  d_ = Eigen::MatrixXd::Zero(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const auto &ci = channels_[i], &cj = channels_[j];
      const auto& pp = pps[atom_species_[ci.atom]];
      if (ci.atom != cj.atom || ci.l != cj.l || ci.m != cj.m || pp.relativistic_spin_orbit) continue;
      d_(i, j) = 0.5 * pp.dij[std::size_t(ci.beta) * pp.nbeta() + cj.beta];  // Ry -> Ha
    }
  if (!save.noncolin) return;

  // Spinors: D acts on (β_i σ); spin-diagonal for scalar-relativistic species (as pw.x does in a spin-orbit
  // run too), D_ij P_j between projectors of equal l and j for fully relativistic ones.
  d_spin_ = Eigen::MatrixXcd::Zero(2 * Eigen::Index(n), 2 * Eigen::Index(n));
  std::map<std::pair<int, int>, Eigen::MatrixXcd> pj;  // (l, 2j) -> P_j
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const auto &ci = channels_[i], &cj = channels_[j];
      if (ci.atom != cj.atom || ci.l != cj.l) continue;
      const auto& pp = pps[atom_species_[ci.atom]];
      const double dij = 0.5 * pp.dij[std::size_t(ci.beta) * pp.nbeta() + cj.beta];  // Ry -> Ha
      if (!pp.relativistic_spin_orbit) {
        if (ci.m != cj.m) continue;
        d_spin_(Eigen::Index(i), Eigen::Index(j)) = d_spin_(Eigen::Index(n + i), Eigen::Index(n + j)) = dij;
        continue;
      }
      spin_orbit_ = true;
      if (std::abs(ci.j - cj.j) > 1e-6) continue;
      const auto key = std::make_pair(ci.l, int(std::lround(2 * ci.j)));
      if (!pj.count(key)) pj.emplace(key, j_projector(ci.l, ci.j));
      const Eigen::MatrixXcd& P = pj.at(key);
      const int nm = harmonic_count(ci.l);
      for (int s = 0; s < 2; ++s)
        for (int t = 0; t < 2; ++t)
          d_spin_(Eigen::Index(s * n + i), Eigen::Index(t * n + j)) = dij * P(s * nm + ci.m, t * nm + cj.m);
    }
}

KBProjectors::PlaneWaveProjectors KBProjectors::plane_waves(
    const Eigen::Vector3d& k_cart, const Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor>& miller) const {
  const Eigen::Index ngw = miller.rows();
  const Eigen::Index np = Eigen::Index(channels_.size());
  PlaneWaveProjectors out;
  out.beta.resize(ngw, np);
  for (auto& d : out.dbeta) d.resize(ngw, np);
  if (tables_) {
    // The table of this k-point; rows are its wavefunction components in order (yambo::as_qe_save).
    const Tables& t = *tables_;
    std::size_t ik = t.k_cart.size(), nearest = 0;
    for (std::size_t i = 0; i < t.k_cart.size(); ++i) {
      if ((t.k_cart[i] - k_cart).norm() < 1e-6) ik = i;
      if ((t.k_cart[i] - k_cart).norm() < (t.k_cart[nearest] - k_cart).norm()) nearest = i;
    }
    if (ik == t.k_cart.size())
      fail(t.k_cart.empty()
               ? std::string("KB tables: no k-point has a table")
               : fmt::format("KB tables: no table for the k-point ({:.6f} {:.6f} {:.6f}) Bohr^-1 (the nearest, k-point "
                             "{}, lies {:.2e} Bohr^-1 away)",
                             k_cart[0], k_cart[1], k_cart[2], nearest + 1, (t.k_cart[nearest] - k_cart).norm()));
    const yambo::KbTables& kb = t.by_k[ik];
    if (ngw > kb.ncx)
      fail(fmt::format("KB tables of k-point {}: {} plane waves but {} table components", ik + 1, ngw, kb.ncx));
    for (Eigen::Index ig = 0; ig < ngw; ++ig) {
      const Eigen::Vector3d G = reciprocal_.transpose() * miller.row(ig).transpose().cast<double>();
      const Eigen::Vector3d q = k_cart + G;
      const double qn = q.norm();
      for (Eigen::Index ic = 0; ic < np; ++ic) {
        const auto& ch = channels_[std::size_t(ic)];
        if (qn < 1e-5) {  // YAMBO skips |k+G| < 1e-5
          out.beta(ig, ic) = 0;
          for (int al = 0; al < 3; ++al) out.dbeta[al](ig, ic) = 0;
          continue;
        }
        const int is = atom_species_[std::size_t(ch.atom)];
        const double f = kb.kb_at(ch.beta, is, int(ig)), df = kb.kbd_at(ch.beta, is, int(ig));
        const double ql = std::pow(qn, ch.l);
        const double g = f / ql, g1 = (df / ql - ch.l * f / (ql * qn)) / qn;  // g = KB/q^l, g'/q
        Eigen::Vector3d grad;
        const double s = solid_harmonic(ch.l, ch.m, q, &grad);
        const std::complex<double> ph = std::polar(1.0, -G.dot(tau_[std::size_t(ch.atom)]));
        out.beta(ig, ic) = ph * (g * s);
        const Eigen::Vector3d d = g1 * s * q + g * grad;
        for (int al = 0; al < 3; ++al) out.dbeta[al](ig, ic) = ph * d[al];
      }
    }
    return out;
  }

  const std::size_t natoms = tau_.size();
  std::vector<std::complex<double>> phase(natoms);
  // Radial values per (species, beta) for the current plane wave.
  std::vector<std::vector<std::pair<double, double>>> radial(form_factors_.size());
  for (std::size_t s = 0; s < form_factors_.size(); ++s) radial[s].resize(form_factors_[s].size());

  for (Eigen::Index ig = 0; ig < ngw; ++ig) {
    const Eigen::Vector3d G = reciprocal_.transpose() * miller.row(ig).transpose().cast<double>();
    const Eigen::Vector3d q = k_cart + G;
    const double qn = q.norm();
    for (std::size_t s = 0; s < form_factors_.size(); ++s)
      for (std::size_t b = 0; b < form_factors_[s].size(); ++b) {
        try {
          form_factors_[s][b].evaluate(qn, radial[s][b].first, radial[s][b].second);
        } catch (const Error& e) {
          fail(fmt::format("species {}, projector {}: {}", species_names_[s], b + 1, e.what()));
        }
      }
    for (std::size_t a = 0; a < natoms; ++a) phase[a] = std::polar(prefactor_, -G.dot(tau_[a]));
    for (Eigen::Index ic = 0; ic < np; ++ic) {
      const auto& ch = channels_[ic];
      const auto [g, g1] = radial[atom_species_[ch.atom]][ch.beta];
      Eigen::Vector3d grad;
      const double s = solid_harmonic(ch.l, ch.m, q, &grad);
      const std::complex<double> ph = phase[ch.atom];
      out.beta(ig, ic) = ph * (g * s);
      const Eigen::Vector3d d = g1 * s * q + g * grad;
      for (int al = 0; al < 3; ++al) out.dbeta[al](ig, ic) = ph * d[al];
    }
  }
  return out;
}

}  // namespace rung::response
