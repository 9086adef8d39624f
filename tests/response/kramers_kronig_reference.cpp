// Kramers-Kronig (core/kramers_kronig.hpp) of rung's own computed Im eps against rung's computed Re eps on a real
// pw.x run: the check that Re eps rung derives for predicted spectra (which carry Im eps only) is the Re eps the
// solver would give, up to the cut at 20 eV. The solver computes Re eps directly (every transition of the save's
// bands, Lorentzian tails to all frequencies), so what KK on 0-20 eV leaves out is the absorption above 20 eV:
// transitions above 20 eV and the Lorentzian tails (~eta/w^2) of the ones below. That part is positive below
// 20 eV, so KK is too LOW, by a nearly constant offset well below 20 eV (core/kramers_kronig.hpp).
#include <catch2/catch.hpp>

#include "core/kramers_kronig.hpp"
#include "core/metrics.hpp"
#include "core/parallel.hpp"
#include "response/spectrum_driver.hpp"
#include "support/paths.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

using namespace rung;
using namespace rung::response;
namespace fs = std::filesystem;

namespace {

struct Agreement {
  double max_abs = 0, max_abs_below_15 = 0, max_abs_2_15 = 0, offset_0 = 0, offset_lo = 1e9, offset_hi = -1e9,
         sc_re = 0;
  double re0 = 0;
  std::vector<double> im;  // the solver's Im eps
};

Agreement kk_against_solver(const fs::path& save, std::optional<Ordering> ordering, bool causal = false) {
  SpectrumOptions o;
  o.input = save;
  o.theory = Theory::ipa;
  o.directions = {parse_field_direction("trace")};
  o.show_progress = false;
  o.ordering = ordering;
  const auto run = compute_spectrum(o, Comm());
  const auto& s = run.set.components.at("trace").spectrum;
  std::vector<double> im, re;
  for (const auto& z : s.eps) {
    im.push_back(z.imag());
    re.push_back(z.real());
  }
  const auto kk = kramers_kronig_re_eps(s.energy_eV, causal ? causal_im_eps(s.energy_eV, im, o.eta_eV) : im);
  Agreement a;
  a.im = im;
  a.re0 = re[0];
  for (std::size_t i = 0; i < kk.size(); ++i) {
    const double d = re[i] - kk[i];  // what KK misses (positive: KK too low)
    a.max_abs = std::max(a.max_abs, std::abs(d));
    if (s.energy_eV[i] <= 15) a.max_abs_below_15 = std::max(a.max_abs_below_15, std::abs(d));
    if (s.energy_eV[i] >= 2 && s.energy_eV[i] <= 15) a.max_abs_2_15 = std::max(a.max_abs_2_15, std::abs(d));
    if (s.energy_eV[i] <= 10) {
      a.offset_lo = std::min(a.offset_lo, d);
      a.offset_hi = std::max(a.offset_hi, d);
    }
  }
  a.offset_0 = re[0] - kk[0];
  a.sc_re = similarity_coefficient(s.energy_eV, kk, re);
  return a;
}

void print(const char* what, const Agreement& a) {
  std::cout << "Kramers-Kronig vs computed Re eps, " << what << ": Re eps(0) = " << a.re0 << ", KK too low by "
            << a.offset_0 << " at 0 eV (" << a.offset_lo << " .. " << a.offset_hi << " over 0-10 eV); max |dRe eps| "
            << a.max_abs_below_15 << " below 15 eV, " << a.max_abs_2_15 << " on 2-15 eV, " << a.max_abs
            << " over 0-20 eV; SC(KK, computed Re eps) = " << a.sc_re << "\n";
}

}  // namespace

// yambo_tests_si: Si, 32 bands (transitions well above 20 eV), the IPA trace on the paper's grid (2001 points,
// 0-20 eV, Lorentzian 0.3 eV). Tolerances (measured values printed; numbers in doc/spectrum-formats.md):
//  - retarded ordering (causal: KK on the whole axis is exact, what is left is the cut at 20 eV and the grid):
//    the missing part is positive and nearly constant below 10 eV (measured 0.011-0.017, 0.014 at 0 eV on
//    Re eps(0) = 14.27: spread under its size), and the grid error near the peaks (~(h^2/12) Re eps'', 1e-2) adds
//    to it: |dRe eps| < 0.05 below 15 eV (measured 0.022); above 15 eV the cut's dip near 20 eV grows (0.16 at
//    the end); SC(KK, computed) >= 0.99 (measured 0.996).
//  - time-ordered (YAMBO's and rung's default for insulators, and so the training labels): Im eps then carries the
//    antiresonant Lorentzian of every transition with the other sign, eta/((w + E)^2 + eta^2), even in w, so
//    Im eps(0) = 1.05 here, not 0. That is not the Im part of a causal function: KK turns it into
//    (2/pi) Im eps(0) ln(E/w) near w = 0, Re eps too HIGH at low w (3.9 at 0 eV, 0.35 at 1 eV, 0.10 at 2 eV).
//    From 2 eV up it agrees as well as the cut allows: |dRe eps| < 0.15 on 2-15 eV (measured 0.10).
//    causal_im_eps (what predictions use) removes that part: then within 0.05 of the computed Re eps below 15 eV
//    (measured 0.023; 1e-4 at 0 eV), and its Im eps within 0.01 of the retarded run's (measured 0.0070, on 1.05
//    removed at 0 eV).
TEST_CASE("Kramers-Kronig of rung's IPA Im eps against its computed Re eps on a pw.x Si save (0-20 eV)",
          "[reference][optical]") {
  const fs::path save = test::qe_save("yambo_tests_si", "Si");
  RUNG_REQUIRE_FIXTURE("yambo_tests_si");
  const auto r = kk_against_solver(save, Ordering::retarded);
  print("retarded", r);
  CHECK(r.offset_lo > 0);  // KK too low everywhere below 10 eV: the missing absorption above 20 eV
  CHECK(r.offset_hi - r.offset_lo < r.offset_lo);  // a nearly constant offset
  CHECK(r.offset_0 < 0.01 * r.re0);
  CHECK(r.max_abs_below_15 < 0.05);
  CHECK(r.sc_re >= 0.99);
  const auto t = kk_against_solver(save, std::nullopt);
  print("time-ordered (default)", t);
  CHECK(t.offset_0 < 0);  // too high at 0: the even antiresonant part of Im eps
  CHECK(t.max_abs_2_15 < 0.15);
  const auto c = kk_against_solver(save, std::nullopt, true);
  print("time-ordered, antiresonant part removed (causal_im_eps)", c);
  CHECK(c.max_abs_below_15 < 0.05);
  CHECK(c.sc_re >= 0.99);
  const auto grid = EnergyGrid::paper_default().values_eV();
  const auto fixed = causal_im_eps(grid, t.im, paper::broadening_eV);
  double worst = 0;
  for (std::size_t i = 0; i < fixed.size(); ++i) worst = std::max(worst, std::abs(fixed[i] - r.im[i]));
  std::cout << "causal_im_eps of the time-ordered Im eps against the retarded one: max |d| = " << worst
            << " (removed at 0 eV: " << t.im[0] << ")\n";
  CHECK(worst < 0.01);
}
