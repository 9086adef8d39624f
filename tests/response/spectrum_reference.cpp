// Reference tests of `rung spectrum` against real references (../shared/reference) on the pw.x fixture runs:
// YAMBO 5.2.4 (double precision) on Si shifted 8x8x8, yambo-tests Si (YAMBO 5.0), QE epsilon.x, the
// Γ-centred grid from the irreducible and the nosym runs, fast vs direct route, and bad input through the CLI.
#include <iostream>
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/parallel.hpp"
#include "io/spectra/file.hpp"
#include "io/qe/save.hpp"
#include "response/oscillator_table.hpp"
#include "response/spectrum_driver.hpp"
#include "response/transitions.hpp"
#include "support/paths.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace rung;
using namespace rung::response;
namespace fs = std::filesystem;

namespace {

const fs::path yambo524 = test::shared_reference() / "yambo-5.2.4" / "Si";
const fs::path yambo_tests = test::shared_reference() / "yambo-tests" / "Si_bulk-GW-OPTICS" / "REFERENCE";

std::vector<double> part(const std::vector<std::complex<double>>& z, bool imag) {
  std::vector<double> r;
  for (auto c : z) r.push_back(imag ? c.imag() : c.real());
  return r;
}

// SC of rung's eps (or eps_o) against a reference spectrum on the reference's grid.
double sc(const Spectrum& mine, const Spectrum& ref, bool imag, bool nolf = false) {
  const auto& a = nolf ? *mine.eps_nolf : mine.eps;
  const auto& b = nolf ? *ref.eps_nolf : ref.eps;
  return compare_on_common_grid(mine.energy_eV, part(a, imag), ref.energy_eV, part(b, imag)).sc;
}

SpectrumOptions options(const fs::path& save, Theory theory, const std::string& direction = "x") {
  SpectrumOptions o;
  o.input = save;
  o.theory = theory;
  o.directions = {parse_field_direction(direction)};
  o.show_progress = false;
  return o;
}

const Spectrum& component(const SpectrumRun& r, const std::string& name = "x") {
  return r.set.components.at(name).spectrum;
}

// The YAMBO 5.2.4 bounds (each test case gives its measured values and reasons): SC of Im and Re eps (and, for
// the RPA, of eps_o) at least sc_min, Re eps(0) within re0_rel relative. The values are printed.
void check_against_yambo(const Spectrum& mine, const fs::path& ref_file, bool rpa, double sc_min, double re0_rel) {
  INFO("reference " << ref_file);
  const Spectrum ref = read_any_spectrum(ref_file);
  const double sc_im = sc(mine, ref, true), sc_re = sc(mine, ref, false);
  const double re0 = mine.eps[0].real() / ref.eps[0].real() - 1;
  CAPTURE(sc_im, sc_re, re0, sc_min, re0_rel);
  std::cout << ref_file.filename().string() << ": SC Im " << std::setprecision(7) << sc_im << ", SC Re " << sc_re
            << ", Re eps(0) " << mine.eps[0].real() << " against " << ref.eps[0].real() << " (" << re0 << " relative)"
            << std::endl;
  CHECK(sc_im >= sc_min);
  CHECK(sc_re >= sc_min);
  CHECK(std::abs(re0) < re0_rel);
  if (rpa) {
    const double sc_im_nolf = sc(mine, ref, true, true), sc_re_nolf = sc(mine, ref, false, true);
    CAPTURE(sc_im_nolf, sc_re_nolf);
    std::cout << ref_file.filename().string() << ": eps_o SC Im " << sc_im_nolf << ", SC Re " << sc_re_nolf
              << std::endl;
    CHECK(sc_im_nolf >= sc_min);
    CHECK(sc_re_nolf >= sc_min);
  }
}

int run_cli(const std::string& args, std::string* stderr_text = nullptr) {
  const fs::path err = fs::temp_directory_path() / "rung_solver_test_stderr.txt";
  const std::string cmd = test::rung_cli().string() + " -q " + args + " 2> " + err.string() + " > /dev/null";
  const int rc = std::system(cmd.c_str());
  if (stderr_text) {
    std::ifstream in(err);
    std::stringstream ss;
    ss << in.rdbuf();
    *stderr_text = ss.str();
  }
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

// YAMBO 5.2.4 in double precision on the same QE run (re-done with Debian pw.x by the fixture).
// What remains is the QE re-run (same inputs, same pw.x version: eigenvalues to ~1e-6 Ha) and YAMBO's 1e-5 Ha
// pole grouping. Measured (doc/solver.md, "Accuracy against the references", and printed here): SC 0.99998 for
// the IPA and RPA 9 / 27 / 59 G (eps and eps_o, Im and Re; lowest 0.999977), i.e. 1 - SC <= 2.3e-5; asserted
// SC >= 0.9999 (1 - SC <= 1e-4, 4x the measured). Re eps(0): IPA 13.61925 against YAMBO's 13.61921 (2.9e-6
// relative), RPA 12.76079 / 12.55918 / 12.16887 against 12.76074 / 12.55914 / 12.16883 (3.2e-6 to 3.7e-6);
// asserted within 1e-4 relative for both (> 25x: the pw.x re-run on another machine moves eigenvalues by ~1e-6 Ha,
// and a wrong [r,Vnl], block or Dyson step moves eps(0) by 1e-2 or more, see the next case).
TEST_CASE("YAMBO 5.2.4: IPA and RPA (9, 27, 59 G) on Si shifted 8x8x8, with [r,Vnl]", "[reference]") {
  RUNG_REQUIRE_SHARED(yambo524);
  const fs::path save = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const Comm comm;
  const auto ip = compute_spectrum(options(save, Theory::ipa), comm);
  check_against_yambo(component(ip), yambo524 / "yambo_dp" / "o-ip_x.eps_q1_ip", false, 0.9999, 1e-4);
  for (int ng : {9, 27, 59}) {
    auto o = options(save, Theory::rpa);
    o.gblock = GBlockRequest::of_count(static_cast<std::size_t>(ng));
    const auto rpa = compute_spectrum(o, comm);
    CHECK(rpa.n_g == static_cast<std::size_t>(ng));
    check_against_yambo(component(rpa),
                        yambo524 / "yambo_dp" / ("o-rpa_ng" + std::to_string(ng) + "_x.eps_q1_inv_rpa_dyson"), true,
                        0.9999, 1e-4);
  }
}

// The same run without [r,Vnl] against YAMBO's single-precision run without it (whose Re eps(0), 15.91, is 17 %
// above the 13.62 with it: the bounds below see a [r,Vnl] that is left in). Measured: SC 0.99997-0.99998 (IPA and
// RPA 27 G, eps and eps_o, Im and Re; lowest 0.999974), Re eps(0) 15.91129 against 15.91122 (4.6e-6) and 14.61427
// against 14.61420 (4.5e-6); asserted as for the double-precision run, SC >= 0.9999 (4x) and 1e-4 relative (> 20x):
// YAMBO's single precision rounds at 6e-8, far below what the pw.x re-run leaves.
TEST_CASE("YAMBO 5.2.4 without [r,Vnl]: IPA and RPA 27 G (--no-vnl)", "[reference]") {
  RUNG_REQUIRE_SHARED(yambo524);
  const fs::path save = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const Comm comm;
  auto o = options(save, Theory::ipa);
  o.include_vnl = false;
  const auto ip = compute_spectrum(o, comm);
  check_against_yambo(component(ip), yambo524 / "yambo_sp_noVnl" / "o-ip_x.eps_q1_ip", false, 0.9999, 1e-4);
  o.theory = Theory::rpa;
  o.gblock = GBlockRequest::of_count(27);
  check_against_yambo(component(compute_spectrum(o, comm)),
                      yambo524 / "yambo_sp_noVnl" / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson", true, 0.9999, 1e-4);
}

// The Γ-centred 8x8x8 grid is closed under the point group: the irreducible run unfolded by symmetry and the
// nosym/noinv run on the full grid sample the same 512 k-points. This checks the BZ unfolding, dipole rotation
// and oscillator rotation end to end. Both nscf runs start from the same scf density (fixture si_gamma_888_nosym),
// so their Hamiltonians are identical: the direct-sum IPA agrees to 1e-8 relative (matrix_elements_qe.cpp; the
// eigensolver's own convergence, ~1e-10, is the floor), these spectra to 2e-6 (single precision, below).
// Bands 1-8: 16 bands would cut a degenerate multiplet at band 16/17, and a cut multiplet makes the result
// depend on the arbitrary basis inside it at every k.
TEST_CASE("Γ-centred Si 8x8x8: irreducible run (unfolded) equals the nosym full-grid run", "[reference]") {
  const fs::path irr = test::qe_save("si_gamma_888", "si"), full = test::qe_save("si_gamma_888_nosym", "si");
  RUNG_REQUIRE_FIXTURE("si_gamma_888");
  RUNG_REQUIRE_FIXTURE("si_gamma_888_nosym");
  const Comm comm;
  for (Theory th : {Theory::ipa, Theory::rpa}) {
    auto o = options(irr, th, "1,0.3,0.2");  // an off-axis direction exercises the rotations
    o.directions.push_back(parse_field_direction("trace"));
    o.band_first = 0;
    o.band_last = 7;
    if (th == Theory::rpa) o.gblock = GBlockRequest::of_count(27);
    const auto a = compute_spectrum(o, comm);
    o.input = full;
    const auto b = compute_spectrum(o, comm);
    for (const auto& [name, ca] : a.set.components) {
      const auto& ea = ca.spectrum.eps;
      const auto& eb = b.set.components.at(name).spectrum.eps;
      double worst = 0;
      for (std::size_t i = 0; i < ea.size(); ++i) worst = std::max(worst, std::abs(ea[i] - eb[i]) / std::abs(eb[i]));
      INFO(name << " worst relative difference " << worst);
      std::cout << "Γ-centred irreducible vs nosym, " << name << ": worst relative difference " << worst << std::endl;
      // Equal sums in another order, rounded twice in single precision: the spectral function S per bin and
      // chi0's store (chi0.hpp), each 2^-24 = 6e-8 relative, amplified a few times by the Hilbert transform and
      // the Dyson solve. Measured 1.8e-7 to 2.3e-7 here and 5.8e-7 on the CI machine (other BLAS kernels and
      // tile sizes change the summation order). A wrong rotation or weight in the unfolding is off by 1e-3 or
      // more, so 2e-6 still catches every such error.
      CHECK(worst < 2e-6);
    }
  }
  // And against YAMBO's Γ-centred run (single precision): measured SC 0.99996 (Im and Re), Re eps(0) 14.78481
  // against 14.78474 (4.9e-6); asserted SC >= 0.9999 (2.5x) and 1e-4 relative (20x), as for the shifted grid.
  const fs::path yg = test::shared_reference() / "yambo-5.2.4" / "Si_gamma8x8x8" / "yambo_sp" / "o-ip_x.eps_q1_ip";
  RUNG_REQUIRE_SHARED(yg);  // (the fixture runs above come from ../shared: it is here)
  check_against_yambo(component(compute_spectrum(options(irr, Theory::ipa), comm)), yg, false, 0.9999, 1e-4);
}

// One process on two OpenMP threads (the oscillators k-point by k-point, the binning bin by bin, the transform and
// the Dyson solves) against one thread, on a real save: every batch, bin and frequency is computed by one thread
// in the same order either way, so the spectra are equal bit for bit, not merely close.
TEST_CASE("Si 8x8x8 RPA 27 G: two OpenMP threads give one thread's spectrum bit for bit", "[reference]") {
#ifndef _OPENMP
  RUNG_SKIP_UNLESS(false, "built without OpenMP");
#else
  const fs::path save = test::qe_save("si_gamma_888", "si");
  RUNG_REQUIRE_FIXTURE("si_gamma_888");
  auto o = options(save, Theory::rpa, "trace");
  o.gblock = GBlockRequest::of_count(27);
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = compute_spectrum(o, Comm());
  omp_set_num_threads(2);
  const auto two = compute_spectrum(o, Comm());
  omp_set_num_threads(before);
  const auto& a = component(one, "trace").eps;
  const auto& b = component(two, "trace").eps;
  REQUIRE(a.size() == b.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
  CHECK(differ == 0);
#endif
}

// An explicit K_POINTS list that is a uniform grid off every symmetric point (Si, 2x2x2, offset (0.22, 0.46,
// 0.74) of a grid step; fixtures si_list_sym and si_list_nosym, both nscf runs from si_tiny's density on the same
// 16^3 FFT grid). Such a list unfolds to no Monkhorst-Pack grid; rung spreads each point's weight over its star,
// which makes the sum the average of the grid's 48 images. Checks, with their reasons:
//  - the symmetrised tensor is isotropic (cubic Si): x, y, z, an off-axis direction and the trace agree to 1e-9
//    relative for the IPA (round-off of the star sums; measured ~1e-15) and to 2e-6 for the RPA (27 G), whose
//    body is binned in single precision (measured 3.7e-7), where the 8 points alone are far from isotropic
//    (x against y differs by more than 1e-3; measured SC 0.38 between the nosym x and the symmetrised x): so the
//    check sees the symmetrisation, and uneven weights within a star would break it;
//  - the IPA trace is invariant under the averaging (Tr S eps S^T = Tr eps), so the symmetrised trace equals
//    the nosym run's 8-point trace to 2e-6 relative (same Hamiltonian, eigenvectors converged to ~1e-10; the same
//    sums in another order, up to chi0's single-precision store: measured 4.7e-7): a wrong weight for the star
//    members would scale the whole spectrum. The RPA is not linear in chi0, so its traces differ (measured SC
//    0.84 at 27 G with 8 points this anisotropic) and are not compared.
TEST_CASE("explicit uniform k list off the symmetric points: star-weighted sum is isotropic and keeps the trace",
          "[reference]") {
  const fs::path sym = test::qe_save("si_list_sym", "si"), nos = test::qe_save("si_list_nosym", "si");
  RUNG_REQUIRE_FIXTURE("si_list_sym");
  RUNG_REQUIRE_FIXTURE("si_list_nosym");
  const Comm comm;
  auto relative = [](const std::vector<std::complex<double>>& a, const std::vector<std::complex<double>>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]) / std::abs(b[i]));
    return worst;
  };
  for (Theory th : {Theory::ipa, Theory::rpa}) {
    auto o = options(sym, th, "x");
    for (const char* d : {"y", "z", "1,0.3,0.2", "trace"}) o.directions.push_back(parse_field_direction(d));
    if (th == Theory::rpa) o.gblock = GBlockRequest::of_count(27);
    const auto a = compute_spectrum(o, comm);
    o.input = nos;
    const auto b = compute_spectrum(o, comm);
    INFO("theory " << (th == Theory::rpa ? "rpa" : "ipa"));
    CHECK(a.set.provenance["system"]["n_k_full"].get<std::size_t>() == 8 * 48);
    CHECK(b.set.provenance["system"]["n_k_full"].get<std::size_t>() == 8);
    CHECK_THAT(a.set.provenance["system"]["k_sampling"].get<std::string>(),
               Catch::Matchers::Contains("uniform grid 2x2x2") && Catch::Matchers::Contains("listed point by point"));
    REQUIRE(a.set.components.size() == 5);
    const auto& ax = component(a, "x").eps;
    // y, z, the off-axis direction and the trace: equal to double round-off for the IPA (its head is binned in
    // double precision); for the RPA the body's bins are summed in single precision (chi0_spectral.cpp), so
    // symmetry-equal directions differ by the rounding of the body (measured 3.7e-7 relative).
    const double equal = th == Theory::ipa ? 1e-9 : 2e-6;
    for (const auto& [name, c] : a.set.components) {
      INFO("symmetrised " << name << " against x");
      CHECK(relative(c.spectrum.eps, ax) < equal);
    }
    CHECK(relative(component(b, "y").eps, component(b, "x").eps) > 1e-3);
    // (the same sums in another order, up to chi0's single-precision store: measured 4.7e-7)
    if (th == Theory::ipa) CHECK(relative(component(a, "trace").eps, component(b, "trace").eps) < 2e-6);
  }
  // The listed grid is a uniform sampling only with equal weights; a point missing is no grid at all.
  const auto save = qe::Save::read(sym);
  auto refused = [](const qe::Save& s) -> std::string {
    try {
      TransitionSource src(s, {});
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  CHECK(refused(save).empty());
  auto uneven = save;
  uneven.k_weights[3] *= 1.5;
  CHECK_THAT(refused(uneven),
             Catch::Matchers::Contains("form a uniform 2x2x2 grid but their weights are not all equal"));
  auto short_list = save;
  short_list.k_cart.pop_back();
  short_list.k_weights.pop_back();
  short_list.eigenvalues.conservativeResize(short_list.eigenvalues.rows() - 1, Eigen::NoChange);
  CHECK_THAT(refused(short_list), Catch::Matchers::Contains("the k-points are not a uniform grid"));
}

// yambo-tests Si (YAMBO 5.0.x references on a PWscf 5.0.2 run; the fixture re-runs the DFT with QE 6.7, so not
// bit for bit). Measured: IPA SC 0.999954 (Im) and 0.999969 (Re), Re eps(0) 14.35023 against 14.35020 (2e-6
// relative); RPA 27 G SC 0.999931 / 0.999948 (eps, Im / Re) and 0.999941 / 0.999959 (eps_o), Re eps(0) 13.25287
// against 13.25294 (5.3e-6). Asserted: SC >= 0.9998 for the IPA and >= 0.9997 for the RPA (1 - SC 4x the
// measured), Re eps(0) within 2e-5 (IPA) and 3e-5 (RPA) relative (6-10x: the two QE versions' eigenvalues are
// what remains, ~1e-6 Ha; a missing [r,Vnl] moves eps(0) by 17 %, a wrong block by 1 % or more).
TEST_CASE("yambo-tests Si: IPA (05_IP-RPA_len_dir_G) and RPA 27 G (06_RPA_len_dir_G)", "[reference]") {
  RUNG_REQUIRE_SHARED(yambo_tests);
  const fs::path save = test::qe_save("yambo_tests_si", "Si");
  RUNG_REQUIRE_FIXTURE("yambo_tests_si");
  const Comm comm;
  auto o = options(save, Theory::ipa);
  o.band_first = 0;
  o.band_last = 31;
  o.grid = EnergyGrid{0.0, 7.5, 500};
  o.eta_eV = 0.1;
  const auto ip = compute_spectrum(o, comm);
  const Spectrum ref_ip = read_any_spectrum(yambo_tests / "o-05_IP-RPA_len_dir_G.eps_q1_ip");
  std::cout << std::setprecision(7) << "yambo-tests IPA: SC Im " << sc(component(ip), ref_ip, true) << ", SC Re "
            << sc(component(ip), ref_ip, false) << ", Re eps(0) " << component(ip).eps[0].real() << " against "
            << ref_ip.eps[0].real() << std::endl;
  CHECK(sc(component(ip), ref_ip, true) >= 0.9998);
  CHECK(sc(component(ip), ref_ip, false) >= 0.9998);
  CHECK(component(ip).eps[0].real() == Approx(ref_ip.eps[0].real()).epsilon(2e-5));  // the file: 14.3502

  o.theory = Theory::rpa;
  o.band_last = 11;
  o.gblock = GBlockRequest::of_count(27);
  o.grid = EnergyGrid{0.0, 7.5, 251};
  const auto rpa = compute_spectrum(o, comm);
  const Spectrum ref = read_any_spectrum(yambo_tests / "o-06_RPA_len_dir_G.eps_q1_inv_rpa_dyson");
  std::cout << "yambo-tests RPA: SC Im " << sc(component(rpa), ref, true) << ", SC Re "
            << sc(component(rpa), ref, false) << ", eps_o SC Im " << sc(component(rpa), ref, true, true) << ", SC Re "
            << sc(component(rpa), ref, false, true) << ", Re eps(0) " << component(rpa).eps[0].real() << " against "
            << ref.eps[0].real() << std::endl;
  for (bool nolf : {false, true})
    for (bool imag : {true, false}) {
      INFO("eps_o " << nolf << " imag " << imag);
      CHECK(sc(component(rpa), ref, imag, nolf) >= 0.9997);
    }
  CHECK(component(rpa).eps[0].real() == Approx(ref.eps[0].real()).epsilon(3e-5));  // the file: 13.25294

  // Fast (spectral function + FFT) vs direct (frequency by frequency) on the same real system: SC >= 0.9999,
  // the accuracy documented for 30 bins per η (chi0_spectral.hpp); η = 0.1 eV on a 30 meV grid needs m = 9.
  o.method = Chi0Method::direct;
  const auto direct = compute_spectrum(o, comm);
  // each run says in which precision its body's oscillators were computed
  CHECK(rpa.set.provenance["parameters"]["oscillator_arithmetic"] == "single precision");
  CHECK(direct.set.provenance["parameters"]["oscillator_arithmetic"] == "double precision");
  const auto& f = component(rpa);
  const auto& d = component(direct);
  for (bool imag : {true, false}) {
    CHECK(similarity_coefficient(f.energy_eV, part(f.eps, imag), part(d.eps, imag)) >= 0.9999);
    CHECK(similarity_coefficient(f.energy_eV, part(*f.eps_nolf, imag), part(*d.eps_nolf, imag)) >= 0.9999);
  }
}

// QE 6.7 epsilon.x (calculation='eps') on the qe-si run. epsilon.x's eps_calc ignores `smeartype`: it always
// uses the damped-oscillator form Σ |p|²/E · 1/(E² − ω² − iηω) with η = intersmear (PP/src/epsilon.f90), and
// no [Vnl, r]. rung reproduces that with --broadening oscillator --no-vnl: measured SC 0.999875 (Im) and 0.999916
// (Re) of the trace, Re eps(0) 17.37304 against epsr_si.dat's 17.37306 (1.2e-6 relative); asserted SC >= 0.9995
// (1 - SC 4x the measured) and Re eps(0) within 1e-5 relative (8x; the same pw.x inputs re-run, eigenvalues
// ~1e-6 Ha apart). A true Gaussian (--broadening gauss) is a different spectrum (SC 0.86 of Im eps against
// epsi_si.dat, see doc/solver.md).
TEST_CASE("QE epsilon.x: IPA without [Vnl,r] on the qe-si run (trace)", "[reference]") {
  const fs::path ref = test::shared_reference() / "qe-si" / "epsi_si.dat";
  RUNG_REQUIRE_SHARED(ref);
  const fs::path save = test::qe_save("qe_si_888_nosym", "si");
  RUNG_REQUIRE_FIXTURE("qe_si_888_nosym");
  const Spectrum qe = read_any_spectrum(ref, "");  // trace of x, y, z
  auto o = options(save, Theory::ipa, "trace");
  o.include_vnl = false;
  o.broadening = BroadeningShape::oscillator;
  const auto r = compute_spectrum(o, Comm());
  const auto& s = component(r, "trace");
  std::cout << std::setprecision(7) << "QE epsilon.x: SC Im " << sc(s, qe, true) << ", SC Re " << sc(s, qe, false)
            << ", Re eps(0) " << s.eps[0].real() << " against " << qe.eps[0].real() << std::endl;
  CHECK(sc(s, qe, true) >= 0.9995);
  CHECK(sc(s, qe, false) >= 0.9995);
  CHECK(s.eps[0].real() == Approx(qe.eps[0].real()).epsilon(1e-5));  // epsr_si.dat: 17.373 in x, y and z
}

TEST_CASE("bad input: clear errors, exit code 2, no output file", "[cli]") {
  const fs::path save = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const fs::path out = fs::temp_directory_path() / "rung_solver_bad_input.h5";
  fs::remove(out);
  std::string err;
  CHECK(run_cli("spectrum " + save.string() + " --theory ipa --bands 1:40 -o " + out.string(), &err) == 2);
  CHECK(err.find("beyond the 16 bands") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK(run_cli("spectrum " + save.string() + " --theory rpa --gblock 100000 -o " + out.string(), &err) == 2);
  CHECK(err.find("wavefunction sphere") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK(run_cli("spectrum " + save.string() + " --theory rpa --gblock 40Ry -o " + out.string(), &err) == 2);
  CHECK_FALSE(fs::exists(out));
}

// The same on rung's own fixture run (made in every checkout, ../shared or not).
TEST_CASE("bad input: a smeared run without enough empty bands and usage errors (si_tiny)", "[cli]") {
  const fs::path out = fs::temp_directory_path() / "rung_solver_bad_input_tiny.h5";
  fs::remove(out);
  std::string err;
  // A metal without enough empty bands: the tiny Si run with its occupations turned into smeared, partially
  // filled bands up to the highest band of the run (QE's occupations used as they are).
  const fs::path tiny = test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const fs::path metal = fs::temp_directory_path() / "rung_solver_metal" / "si.save";
  fs::remove_all(metal.parent_path());
  fs::create_directories(metal);
  for (const auto& e : fs::directory_iterator(tiny)) fs::copy(e.path(), metal / e.path().filename());
  {
    std::ifstream in(tiny / "data-file-schema.xml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string xml = ss.str();
    xml = std::regex_replace(xml, std::regex("<occupations>fixed</occupations>"), "<occupations>smearing</occupations>");
    xml = std::regex_replace(xml, std::regex("<occupations_kind>fixed</occupations_kind>"),
                             "<occupations_kind>smearing</occupations_kind>");
    // The first k-point: band 4 half empty, bands 5 and 8 (the highest) half filled.
    xml = std::regex_replace(
        xml,
        std::regex("(<occupations size=\"8\">\\s*\\S+\\s+\\S+\\s+\\S+\\s+)\\S+\\s+\\S+(\\s+\\S+\\s+\\S+\\s+)\\S+"),
        "$1 5.0e-1 5.0e-1$2 5.0e-1", std::regex_constants::format_first_only);
    std::ofstream(metal / "data-file-schema.xml") << xml;
  }
  CHECK(run_cli("spectrum " + metal.string() + " --theory ipa --occupations qe -o " + out.string(), &err) == 2);
  CHECK(err.find("data-file-schema.xml") != std::string::npos);
  CHECK(err.find("too few empty bands") != std::string::npos);
  CHECK(err.find('\n') == err.size() - 1);  // one line
  CHECK_FALSE(fs::exists(out));
  // Usage errors are not input errors (exit code 3).
  CHECK(run_cli("spectrum " + tiny.string() + " --theory rpa -o " + out.string(), &err) == 3);
  CHECK(run_cli("spectrum " + tiny.string() + " --theory ipa --direction 0,0,0 -o " + out.string(), &err) == 3);
  CHECK_FALSE(fs::exists(out));
}

// --drude on an insulator is a usage error raised before any chi0 is built: on a copy of the tiny Si run without its
// wavefunction files (which the transitions would read first) it is still the usage error, not a missing file.
TEST_CASE("Drude term asked on an insulator: usage error before the transitions are read", "[reference]") {
  const fs::path tiny = test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const fs::path bare = fs::temp_directory_path() / "rung_solver_drude_insulator" / "si.save";
  fs::remove_all(bare.parent_path());
  fs::create_directories(bare);
  for (const auto& e : fs::directory_iterator(tiny))
    if (e.path().filename().string().rfind("wfc", 0) != 0) fs::copy(e.path(), bare / e.path().filename());
  auto o = options(bare, Theory::ipa);
  o.drude = parse_drude("5:0.1");
  try {
    compute_spectrum(o, Comm::self());
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("--drude applies to metals"));
  }
  fs::remove_all(bare.parent_path());
}

TEST_CASE("converge: blocks E against 2E on x, y, z, history, probes and the chosen block", "[reference]") {
  const fs::path save = test::qe_save("yambo_tests_si", "Si");
  RUNG_REQUIRE_FIXTURE("yambo_tests_si");
  auto o = options(save, Theory::rpa);
  o.band_last = 11;
  o.grid = EnergyGrid{0.0, 7.5, 251};
  o.eta_eV = 0.1;
  o.converge.enabled = true;
  o.converge.sc_threshold = 0.999;
  o.converge.max_block = GBlockRequest::of_count(65);
  const auto c = compute_spectrum(o, Comm());
  REQUIRE(c.convergence.size() >= 2);
  // the ladder starts at the first shell at or above 4 Ry, never at G = 0 alone
  CHECK(c.convergence.front().n_g > 1);
  CHECK(c.convergence.front().shell_energy_Ry >= 4.0);
  CHECK_FALSE(c.convergence.front().sc_vs_previous);
  for (std::size_t i = 1; i < c.convergence.size(); ++i) {
    const auto& s = c.convergence[i];
    CHECK(s.n_g > c.convergence[i - 1].n_g);
    // the next rung is the first shell at or above twice the previous shell energy (or the cap)
    CHECK((s.shell_energy_Ry >= 2 * c.convergence[i - 1].shell_energy_Ry - 1e-9 || s.n_g == 65));
    REQUIRE(s.sc_xyz);
    // the criterion is the worst of the three Cartesian directions
    CHECK(*s.sc_vs_previous == std::min({(*s.sc_xyz)[0], (*s.sc_xyz)[1], (*s.sc_xyz)[2]}));
  }
  // Whether this ladder (the 4 Ry shell, then the 65-G cap) reaches SC 0.999 is not recorded anywhere, so the
  // flag is not pinned to a value; it must say what the last rung's SC says, either way.
  const auto& last = c.convergence.back();
  CAPTURE(c.converged, *last.sc_vs_previous, last.inert);
  CHECK(c.converged == (*last.sc_vs_previous >= 0.999 && !last.inert));
  CHECK(c.n_g == c.convergence.back().n_g);  // the larger block of the last pair is kept
  // probes: blocks below the second rung (sub-blocks of its chi0), SC(IPA, RPA) of each, at the fcc shells
  // closing at 9, 15, 27 and 59 G. The 27 G probe has the settings of yambo-tests' 06_RPA_len_dir_G (bands 1-12,
  // 27 G, η 0.1 eV, 0-7.5 eV): its SC equals that of the reference's eps against its eps_o, 0.873866 (measured
  // 0.873850, 1.6e-5 apart: the two QE versions); asserted within 1e-4 (6x). The others are pinned to their
  // measured values, 0.898513 (9 G, and 15 G: the (200) shell adds nothing to Si's x response, as a plain 15 G
  // run equal to the 9 G one to 5e-10 shows) and 0.823860 (59 G), within 1e-4 (the QE re-run's ~1e-5, as at
  // 27 G); a probe on the wrong sub-block is off by 0.025 or more.
  const fs::path ref_file = yambo_tests / "o-06_RPA_len_dir_G.eps_q1_inv_rpa_dyson";
  RUNG_REQUIRE_SHARED(ref_file);
  const Spectrum ref = read_any_spectrum(ref_file);
  const double sc_yambo_27 = similarity_coefficient(ref.energy_eV, part(ref.eps, true), part(*ref.eps_nolf, true));
  CHECK(sc_yambo_27 == Approx(0.873866).margin(1e-6));
  const std::map<std::size_t, double> want{{9, 0.898513}, {15, 0.898513}, {27, sc_yambo_27}, {59, 0.823860}};
  REQUIRE(c.probes.size() == want.size());
  for (std::size_t i = 0; i < c.probes.size(); ++i) {
    const auto& p = c.probes[i];
    std::cout << "probe " << p.n_g << " G: SC(IPA, RPA) " << std::setprecision(7) << p.sc_ipa_rpa << std::endl;
    CHECK(p.n_g < c.convergence[1].n_g);
    REQUIRE(want.count(p.n_g) == 1);
    CHECK(p.sc_ipa_rpa == Approx(want.at(p.n_g)).margin(1e-4));
  }
  // The chosen block's spectrum equals a plain run with that block (same chi0 sub-block, same Dyson).
  auto plain = o;
  plain.converge.enabled = false;
  plain.gblock = GBlockRequest::of_count(c.n_g);
  plain.directions = {parse_field_direction("x"), parse_field_direction("trace")};
  const auto p = compute_spectrum(plain, Comm());
  const auto& a = component(c).eps;
  const auto& b = component(p).eps;
  for (std::size_t i = 0; i < a.size(); i += 25) CHECK(std::abs(a[i] - b[i]) < 1e-6 * std::abs(b[i]));
  // SC(IPA, RPA) recorded for the chosen block is that of the plain run's trace (not of x: the k-point set of a
  // pw.x run need not make x, y and z equal to more than a few 1e-6)
  const auto& trace = component(p, "trace");
  std::vector<double> im_lf, im_nolf;
  for (std::size_t i = 0; i < trace.eps.size(); ++i) {
    im_lf.push_back(trace.eps[i].imag());
    im_nolf.push_back((*trace.eps_nolf)[i].imag());
  }
  CHECK(c.convergence.back().sc_ipa_rpa == Approx(similarity_coefficient(o.grid.values_eV(), im_lf, im_nolf)).margin(1e-9));
}

TEST_CASE("compact oscillator table: every row equals the dense table's (symmetry images of irreducible rows)",
          "[reference]") {
  // The fast route reads rows generated from the irreducible k-points; they must be the rows the dense table
  // (TransitionSource::batch at every full-BZ point) holds, to rounding (the head's rotation and its division
  // by ΔE are applied in the other order: 1e-14 relative).
  const fs::path save_path = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto save = qe::Save::read(save_path);
  TransitionOptions o;
  o.band_last = 15;
  o.gblock = closed_shell_gblock(save, 27);
  TransitionSource source(save, o);
  const std::size_t nk = source.n_irreducible_kpoints();
  const OscillatorTable dense = build_oscillator_table(source, 0, nk, false);
  const OscillatorTable compact = build_oscillator_table(source, 0, nk, true);
  REQUIRE(compact.compact());
  REQUIRE(compact.size() == dense.size());
  REQUIRE(compact.stored * 8 < dense.size());  // 60 irreducible of 2048 points
  const auto expanded = compact.dense_rows();
  double worst = 0, scale = 0;
  for (Eigen::Index i = 0; i < expanded.size(); ++i) {
    worst = std::max(worst, std::abs(expanded.data()[i] - dense.rows.data()[i]));
    scale = std::max(scale, std::abs(dense.rows.data()[i]));
  }
  CHECK(worst <= 1e-14 * scale);
  for (std::size_t t = 0; t < dense.size(); ++t) {
    CHECK(compact.energy[t] == dense.energy[t]);
    CHECK(compact.weight[t] == dense.weight[t]);
  }
  // Each rank's contiguous k range, gathered, is the serial table (one rank: itself).
  const auto [k0, k1] = balanced_kpoint_range(source, Comm::self());
  CHECK(k0 == 0);
  CHECK(k1 == nk);
}
