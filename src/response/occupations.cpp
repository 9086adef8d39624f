#include "response/occupations.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace rung::response {

OccupationSource parse_occupation_source(const std::string& s) {
  if (s == "fd" || s == "fermi-dirac" || s == "FD") return OccupationSource::fermi_dirac;
  if (s == "qe" || s == "QE") return OccupationSource::qe;
  fail_usage("--occupations must be fd (Fermi-Dirac at --temperature, YAMBO's default) or qe (QE's smearing), not '" +
             s + "'");
}

std::string to_string(OccupationSource s) { return s == OccupationSource::qe ? "qe" : "fermi-dirac"; }

double fermi_dirac(double e, double mu, double kT) {
  const double x = (e - mu) / kT;
  // 1/(1 + e^x) without overflow: for x > 0 use e^-x / (1 + e^-x).
  if (x > 0) {
    const double ex = std::exp(-x);
    return ex / (1.0 + ex);
  }
  return 1.0 / (1.0 + std::exp(x));
}

double fermi_dirac_derivative(double e, double mu, double kT) {
  const double f = fermi_dirac(e, mu, kT);
  return f * (1.0 - f) / kT;
}

void add_intraband(Eigen::Matrix3d& sum, double g, double e, double mu, double kT, const Eigen::Matrix3d& vv) {
  sum += g * fermi_dirac_derivative(e, mu, kT) * vv;
}

DrudeOptions parse_drude(const std::string& s) {
  DrudeOptions d;
  const auto colon = s.find(':');
  auto bad = [&] {
    fail_usage("--drude must be WP:GAMMA (plasma frequency and damping in eV) or auto:GAMMA (plasma frequency from "
               "the intraband velocities), e.g. auto:0.1; got '" + s + "'");
  };
  if (colon == std::string::npos) bad();
  const std::string wp = s.substr(0, colon), gamma = s.substr(colon + 1);
  // (parse_number: from_chars, so the host's LC_NUMERIC does not change what "0.1" means)
  if (!parse_number(gamma, d.damping_eV) || !(d.damping_eV >= 0)) bad();
  if (wp == "auto") {
    d.plasma = DrudeOptions::Plasma::computed;
  } else {
    if (!parse_number(wp, d.plasma_eV) || !(d.plasma_eV > 0)) bad();
    d.plasma = DrudeOptions::Plasma::given;
  }
  return d;
}

double fermi_dirac_level(const Eigen::MatrixXd& eig, const std::vector<double>& weights, double n_electrons,
                         double spin_factor, double kT) {
  if (!(kT > 0)) fail_usage("the electronic temperature must be positive");
  if (eig.size() == 0 || std::size_t(eig.rows()) != weights.size()) fail("fermi_dirac_level: empty or mismatched input");
  double wsum = 0;
  for (double w : weights) wsum += w;
  if (!(wsum > 0)) fail("fermi_dirac_level: k weights do not sum to a positive number");
  const double capacity = spin_factor * double(eig.cols());
  if (!(n_electrons > 0 && n_electrons < capacity))
    fail(fmt::format("fermi_dirac_level: {} electrons do not fit strictly inside {} states x {}", n_electrons,
                     eig.cols(), spin_factor));
  auto count = [&](double mu) {
    double n = 0;
    for (Eigen::Index ik = 0; ik < eig.rows(); ++ik) {
      double nk = 0;
      for (Eigen::Index b = 0; b < eig.cols(); ++b) nk += fermi_dirac(eig(ik, b), mu, kT);
      n += weights[std::size_t(ik)] / wsum * nk;
    }
    return spin_factor * n;
  };
  double lo = eig.minCoeff() - 50 * kT - 1.0, hi = eig.maxCoeff() + 50 * kT + 1.0;
  for (int it = 0; it < 200 && hi - lo > 1e-13; ++it) {
    const double mid = 0.5 * (lo + hi);
    (count(mid) < n_electrons ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

// Per channel: the lowest band with some f < 1 - eps and the highest with some f > eps.
void classify(Occupations& o) {
  const Eigen::Index nk = o.f.rows();
  o.lowest_partial.assign(std::size_t(o.n_spin), o.nbnd);
  o.highest_partial.assign(std::size_t(o.n_spin), -1);
  for (int s = 0; s < o.n_spin; ++s)
    for (int b = 0; b < o.nbnd; ++b)
      for (Eigen::Index ik = 0; ik < nk; ++ik) {
        const double f = o.at(ik, s, b);
        if (f < 1 - occupation_epsilon) o.lowest_partial[std::size_t(s)] = std::min(o.lowest_partial[std::size_t(s)], b);
        if (f > occupation_epsilon) o.highest_partial[std::size_t(s)] = std::max(o.highest_partial[std::size_t(s)], b);
      }
}

}  // namespace

Occupations compute_occupations(const qe::Save& save, const OccupationOptions& opt) {
  Occupations o;
  o.n_spin = save.lsda ? 2 : 1;
  o.nbnd = save.nbnd;
  o.spin_factor = (save.lsda || save.noncolin) ? 1.0 : 2.0;
  const Eigen::Index nk = Eigen::Index(save.nk());
  const Eigen::Index ncol = Eigen::Index(o.n_spin) * o.nbnd;
  if (save.eigenvalues.rows() != nk || save.eigenvalues.cols() < ncol)
    fail_input(save.xml, "eigenvalue table does not match the k-points, bands and spin channels");
  o.f = Eigen::MatrixXd::Zero(nk, ncol);
  o.metal = !save.is_insulator();
  o.source = opt.source;

  if (!o.metal) {
    // Integer fillings: the bands QE filled (the same number at every k, is_insulator() checked it).
    for (int s = 0; s < o.n_spin; ++s) {
      int nocc = 0;
      if (save.occupations == "fixed" && !save.lsda) {
        nocc = save.occupied_bands();
      } else {
        for (int b = 0; b < o.nbnd; ++b)
          if (save.occupations_kb.size() && save.occupations_kb(0, s * o.nbnd + b) > 0.5) ++nocc;
      }
      for (Eigen::Index ik = 0; ik < nk; ++ik)
        for (int b = 0; b < nocc; ++b) o.f(ik, s * o.nbnd + b) = 1.0;
      // occupations='fixed' says nothing about a gap: the filled bands must lie below the empty ones at every k,
      // else the run is a metal or semimetal that pw.x filled by count (its near-degenerate pairs would give
      // heads ~ 1/dE and a spectrum that depends on the k grid)
      if (nocc > 0 && nocc < o.nbnd) {
        if (const auto e = save.band_edges(s, nocc); !(e.cbm > e.vbm))
          fail_input(save.xml, fmt::format("occupations='fixed', but the highest filled band (up to {:.4f} eV) reaches "
                                           "above the lowest empty one (from {:.4f} eV): a metal or semimetal; rerun "
                                           "pw.x with occupations='smearing'",
                                           units::Ha_to_eV(e.vbm), units::Ha_to_eV(e.cbm)));
      }
    }
    o.temperature_K = 0;
    o.fermi_energy = save.homo ? *save.homo : (save.fermi_energy ? *save.fermi_energy : 0.0);
    classify(o);
    return o;
  }

  if (opt.source == OccupationSource::qe) {
    // a YAMBO SAVE keeps no occupations (ns.db1 has energies only): the ones its reader fills in are rung's own
    if (!save.yambo_save.empty())
      fail_usage(save.yambo_save.string() + ": a YAMBO SAVE keeps no occupations; use --occupations fd (Fermi-Dirac)");
    if (save.occupations_kb.rows() != nk || save.occupations_kb.cols() < ncol)
      fail_input(save.xml, "no occupations for every k-point and band: cannot use QE's occupations");
    o.f = save.occupations_kb.leftCols(ncol);
    o.temperature_K = 0;
    o.fermi_energy = save.fermi_energy ? *save.fermi_energy : 0.0;
    if (save.lsda && save.two_fermi_energies)
      o.fermi_energy_spin = {(*save.two_fermi_energies)[0], (*save.two_fermi_energies)[1]};
  } else {
    if (!(opt.temperature_K > 0) || !std::isfinite(opt.temperature_K))
      fail_usage(fmt::format("--temperature must be a positive number of kelvin (got {})", opt.temperature_K));
    const double kT = opt.temperature_K * units::boltzmann_Ha_per_K;
    const double capacity = o.spin_factor * double(ncol);
    if (!(save.nelec > 0 && save.nelec < capacity))
      fail_input(save.xml, fmt::format("{} electrons do not fit in the {} bands x {} spin channel(s) of the run: too "
                                       "few bands for a metal (rerun pw.x with a larger nbnd)",
                                       save.nelec, o.nbnd, o.n_spin));
    if (save.lsda && save.two_fermi_energies) {
      // QE fixed the total magnetisation (two Fermi levels): one common level would move electrons between the
      // channels, so each channel keeps the electron count of QE's occupations and gets a level of its own
      if (save.occupations_kb.rows() != nk || save.occupations_kb.cols() < ncol)
        fail_input(save.xml,
                   "two Fermi levels (fixed total magnetisation) but no occupations for every k-point and "
                   "band: the electron count of each spin channel is unknown");
      double wsum = 0;
      for (double w : save.k_weights) wsum += w;
      if (!(wsum > 0)) fail_input(save.xml, "k weights do not sum to a positive number");
      for (int s = 0; s < 2; ++s) {
        double n = 0;
        for (Eigen::Index ik = 0; ik < nk; ++ik)
          n += save.k_weights[std::size_t(ik)] / wsum * save.occupations_kb.row(ik).segment(s * o.nbnd, o.nbnd).sum();
        const auto eig = save.eigenvalues.middleCols(s * o.nbnd, o.nbnd);
        double mu = (*save.two_fermi_energies)[std::size_t(s)];
        if (n > 1e-9 && n < o.nbnd - 1e-9) mu = fermi_dirac_level(eig, save.k_weights, n, 1.0, kT);
        o.fermi_energy_spin.push_back(mu);
        for (Eigen::Index ik = 0; ik < nk; ++ik)
          for (int b = 0; b < o.nbnd; ++b)
            o.f(ik, s * o.nbnd + b) = n <= 1e-9 ? 0.0 : n >= o.nbnd - 1e-9 ? 1.0 : fermi_dirac(eig(ik, b), mu, kT);
      }
      o.fermi_energy = std::max(o.fermi_energy_spin[0], o.fermi_energy_spin[1]);
    } else {
      o.fermi_energy =
          fermi_dirac_level(save.eigenvalues.leftCols(ncol), save.k_weights, save.nelec, o.spin_factor, kT);
      for (Eigen::Index ik = 0; ik < nk; ++ik)
        for (Eigen::Index c = 0; c < ncol; ++c) o.f(ik, c) = fermi_dirac(save.eigenvalues(ik, c), o.fermi_energy, kT);
    }
    o.temperature_K = opt.temperature_K;
  }
  classify(o);
  return o;
}

}  // namespace rung::response
