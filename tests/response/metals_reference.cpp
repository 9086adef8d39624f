// Metals and collinear spin against YAMBO 5.2.4 (single precision) on the pw.x fixture runs of the shared
// reference inputs: fcc Al (nspin 1) and ferromagnetic bcc Fe (nspin 2), 8x8x8 shifted, IPA and RPA with local
// fields. YAMBO treats both at its default electronic temperature (Fermi–Dirac at 300 K with its own Fermi level,
// retarded ordering, interband transitions only, no Drude term); rung's defaults for a metal are the same.
#include <catch2/catch.hpp>

#include "core/error.hpp"

#include "core/metrics.hpp"
#include "core/parallel.hpp"
#include "core/units.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "response/occupations.hpp"
#include "response/spectrum_driver.hpp"
#include "support/paths.hpp"

#include <cmath>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

using namespace rung;
using namespace rung::response;
namespace fs = std::filesystem;

namespace {

const fs::path yambo524 = test::shared_reference() / "yambo-5.2.4";

std::vector<double> part(const std::vector<std::complex<double>>& z, bool imag) {
  std::vector<double> r;
  for (auto c : z) r.push_back(imag ? c.imag() : c.real());
  return r;
}

double sc(const Spectrum& mine, const Spectrum& ref, bool imag, bool nolf) {
  const auto& a = nolf ? *mine.eps_nolf : mine.eps;
  const auto& b = nolf ? *ref.eps_nolf : ref.eps;
  return compare_on_common_grid(mine.energy_eV, part(a, imag), ref.energy_eV, part(b, imag)).sc;
}

SpectrumOptions options(const fs::path& save, Theory theory, std::size_t ng = 1) {
  SpectrumOptions o;
  o.input = save;
  o.theory = theory;
  o.directions = {parse_field_direction("x")};
  o.show_progress = false;
  if (theory == Theory::rpa) o.gblock = GBlockRequest::of_count(ng);
  return o;
}

// SC of Im and Re (and of ε_o for RPA) against a YAMBO o- file; prints what it measured.
void check_against_yambo(const SpectrumRun& run, const fs::path& ref_file, double bound) {
  INFO("reference " << ref_file);
  const Spectrum& mine = run.set.components.at("x").spectrum;
  const Spectrum ref = read_any_spectrum(ref_file);
  const bool rpa = mine.eps_nolf.has_value() && ref.eps_nolf.has_value();
  for (bool nolf : rpa ? std::vector<bool>{false, true} : std::vector<bool>{false})
    for (bool imag : {true, false}) {
      const double s = sc(mine, ref, imag, nolf);
      std::cout << ref_file.filename().string() << (nolf ? " eps_o" : " eps") << (imag ? " Im" : " Re") << ": SC "
                << s << std::endl;
      INFO((nolf ? "eps_o " : "eps ") << (imag ? "Im" : "Re"));
      CHECK(s >= bound);
    }
}

}  // namespace

// Bounds: SC >= 0.999 (Im and Re, ε and ε_o). What separates rung from YAMBO here: YAMBO's single precision,
// the fixture's own pw.x re-run of the inputs, and, for a metal, the occupations of the states within a few
// k_B T of the Fermi level, which depend on each code's Fermi level (bisection vs YAMBO's search, 1e-4 eV apart
// would already move f by 0.4 %) on a coarse 8x8x8 grid where a handful of states sit at the Fermi level.
TEST_CASE("YAMBO 5.2.4 metal: fcc Al, IPA and RPA 9 / 27 G (Fermi-Dirac 300 K, retarded, no Drude)", "[reference]") {
  const fs::path ref = yambo524 / "Al" / "yambo_sp";
  RUNG_REQUIRE_SHARED(ref);
  const fs::path save = test::qe_save("al_888", "al");
  RUNG_REQUIRE_FIXTURE("al_888");
  const Comm comm;
  const auto ip = compute_spectrum(options(save, Theory::ipa), comm);
  // YAMBO's own Fermi level for this run (its report: 8.238732 eV) and rung's, from the same KS energies (the
  // fixture's pw.x re-run differs by ~1e-6 Ha): within 2 meV (YAMBO's search stops at its own tolerance).
  const double ef = ip.set.provenance["occupations"]["fermi_energy_eV"].get<double>();
  std::cout << "Al: rung's Fermi level " << ef << " eV (YAMBO 8.238732 eV)" << std::endl;
  CHECK(std::abs(ef - 8.238732) < 2e-3);
  CHECK(ip.set.provenance["parameters"]["ordering"] == "R");
  check_against_yambo(ip, ref / "o-ip_x.eps_q1_ip", 0.999);
  // Interband only, retarded: Im ε vanishes at ω = 0 (no Drude term), as in YAMBO's file.
  CHECK(std::abs(ip.set.components.at("x").spectrum.eps[0].imag()) < 1e-6);
  for (int ng : {9, 27}) {
    const auto rpa = compute_spectrum(options(save, Theory::rpa, std::size_t(ng)), comm);
    CHECK(rpa.n_g == std::size_t(ng));  // closed fcc shells: YAMBO uses 9 and 27 as given
    check_against_yambo(rpa, ref / ("o-rpa_ng" + std::to_string(ng) + "_x.eps_q1_inv_rpa_dyson"), 0.999);
  }
}

// The Drude term on Al. Given (ω_p, γ): it adds exactly −ω_p²/(ω(ω + iγ)) at the real ω (1e-8 Ha at ω = 0) to the
// IPA ε, so Re ε_D < 0 at every ω as a free-electron gas has it (checked at three frequencies to 2e-7 of |ε with| + |ε without| + 2: chi0's head is stored in single precision, 2^-24 = 6e-8
// of |ε - 1| in each of the two spectra, so 1e-9 is out of reach; a wrong Drude formula is off by its own size,
// O(1) here). Computed from the intraband velocities: the Drude plasma frequency of
// Al must lie below the free-electron value √(4π n) (3 electrons per cell; band-structure effects move part of the
// f-sum weight to interband transitions; DFT studies give 0.75–0.85 of it) and well above half of it; asserted
// 0.7–1.0. QE's occupations (Marzari–Vanderbilt, 0.27 eV) against Fermi–Dirac at 300 K (26 meV): the 0.8 eV
// parallel-band peak, made of states at the Fermi level, is reshaped (measured SC 0.92 / 0.91, asserted ≥ 0.85),
// while far from it (5 eV) the two agree to 2 % (a wrong electron count or spin factor would not).
TEST_CASE("Al: Drude term given and from the intraband velocities, and QE's occupations", "[reference]") {
  const fs::path save = test::qe_save("al_888", "al");
  RUNG_REQUIRE_FIXTURE("al_888");
  const Comm comm;
  auto o = options(save, Theory::ipa);
  o.grid = EnergyGrid{0.0, 20.0, 201};
  const auto plain = compute_spectrum(o, comm);
  o.drude = parse_drude("15:0.1");
  const auto given = compute_spectrum(o, comm);
  const auto& e0 = plain.set.components.at("x").spectrum.eps;
  const auto& e1 = given.set.components.at("x").spectrum.eps;
  const double wp = units::eV_to_Ha(15), gamma = units::eV_to_Ha(0.1);
  for (std::size_t i : {0, 1, 10, 100}) {
    const double w = std::max(units::eV_to_Ha(plain.set.energy_eV[i]), 1e-8);
    const std::complex<double> drude = -wp * wp / (w * (w + std::complex<double>(0, gamma)));
    CHECK(drude.real() < 0);  // at 0.1 eV (i = 1) too, below the 0.3 eV broadening
    // chi0's head is stored in single precision (chi0.hpp): each of e0 and e1 carries a rounding of 2^-24 of
    // |eps - 1|; a wrong Drude formula would be off by its own size
    CHECK(std::abs(e1[i] - e0[i] - drude) < 2e-7 * (std::abs(e1[i]) + std::abs(e0[i]) + 2));
  }
  // the time-ordered response of a metal is refused (near-degenerate partly occupied pairs): usage error, naming it
  {
    auto t = options(save, Theory::ipa);
    t.grid = EnergyGrid{0.0, 20.0, 201};
    t.ordering = Ordering::time_ordered;
    try {
      compute_spectrum(t, comm);
      FAIL("a metal's time-ordered response was computed");
    } catch (const rung::Error& e) {
      CHECK(e.kind() == rung::ErrorKind::usage);
      CHECK_THAT(e.what(), Catch::Matchers::Contains("--ordering T"));
    }
  }
  o.drude = parse_drude("auto:0.1");
  const auto computed = compute_spectrum(o, comm);
  const double wp_auto = computed.set.provenance["drude"]["plasma_eV"].get<double>();
  const qe::Save s = qe::Save::read(save);
  const double wp_free = units::Ha_to_eV(std::sqrt(4 * units::pi * s.nelec / s.structure.volume()));
  std::cout << "Al Drude plasma frequency from the intraband velocities (300 K): " << wp_auto << " eV; free electrons "
            << wp_free << " eV" << std::endl;
  CHECK(wp_auto > 0.7 * wp_free);
  CHECK(wp_auto < 1.0 * wp_free);
  // A Drude temperature far above the occupations' (10000 K on 300 K occupations): -df/de then reaches bands that
  // are not partly occupied at 300 K, which must count. Against occupations at 10000 K themselves, whose partly
  // occupied bands hold them all, it differs only by the Fermi level's move between 300 K and 10000 K (20 meV): 0.1 %
  // measured, asserted 0.5 %; summed over the 300 K partly occupied bands alone it was 3.1 % low.
  {
    auto hot = options(save, Theory::ipa);
    hot.grid = EnergyGrid{0.0, 20.0, 201};
    hot.drude = parse_drude("auto:0.1");
    hot.drude.temperature_K = 10000;
    const double wp_drude_hot = compute_spectrum(hot, comm).set.provenance["drude"]["plasma_eV"].get<double>();
    hot.drude.temperature_K = 0;
    hot.occupations.temperature_K = 10000;
    const double wp_all_hot = compute_spectrum(hot, comm).set.provenance["drude"]["plasma_eV"].get<double>();
    std::cout << "Al Drude plasma frequency at 10000 K: on 300 K occupations " << wp_drude_hot << " eV, on 10000 K "
              << wp_all_hot << " eV" << std::endl;
    CHECK(std::abs(wp_drude_hot / wp_all_hot - 1) < 0.005);
  }

  auto q = options(save, Theory::ipa);
  q.occupations.source = OccupationSource::qe;
  const auto qe_occ = compute_spectrum(q, comm);
  const auto fd = compute_spectrum(options(save, Theory::ipa), comm);
  for (bool imag : {true, false}) {
    const auto& a = qe_occ.set.components.at("x").spectrum;
    const auto& b = fd.set.components.at("x").spectrum;
    const double s_qe = similarity_coefficient(a.energy_eV, part(a.eps, imag), part(b.eps, imag));
    std::cout << "Al: QE's occupations vs Fermi-Dirac 300 K, " << (imag ? "Im" : "Re") << " SC " << s_qe << std::endl;
    CHECK(s_qe >= 0.85);
  }
  const std::size_t i5 = 500;  // 5 eV on the 10 meV grid
  const auto& a = qe_occ.set.components.at("x").spectrum.eps;
  const auto& b = fd.set.components.at("x").spectrum.eps;
  REQUIRE(std::abs(fd.set.energy_eV[i5] - 5.0) < 1e-9);
  CHECK(std::abs(a[i5].real() / b[i5].real() - 1) < 0.02);
  CHECK(std::abs(a[i5].imag() / b[i5].imag() - 1) < 0.02);
}

// Collinear spin: both channels, one Fermi level, summed into one ε, no spin flip. YAMBO rounds the requested
// 9 and 27 G up to closed bcc shells, 13 and 43 G (its reports); rung's rounding gives the same blocks.
TEST_CASE("YAMBO 5.2.4 spin-polarised metal: bcc Fe, IPA and RPA 13 / 43 G", "[reference]") {
  const fs::path ref = yambo524 / "Fe_bcc" / "yambo_sp";
  RUNG_REQUIRE_SHARED(ref);
  const fs::path save = test::qe_save("fe_bcc_888", "fe");
  RUNG_REQUIRE_FIXTURE("fe_bcc_888");
  const Comm comm;
  const auto ip = compute_spectrum(options(save, Theory::ipa), comm);
  const double ef = ip.set.provenance["occupations"]["fermi_energy_eV"].get<double>();
  std::cout << "Fe: rung's Fermi level " << ef << " eV (YAMBO 14.69754 eV)" << std::endl;
  CHECK(std::abs(ef - 14.69754) < 2e-3);
  CHECK(ip.set.provenance["system"]["spin_channels"] == 2);
  std::cout << "Fe: partly occupied bands per spin channel, from "
            << ip.set.provenance["occupations"]["lowest_partly_empty_band"] << " to "
            << ip.set.provenance["occupations"]["highest_partly_occupied_band"]
            << " (YAMBO's report: up 6-6, down 2-3, with its own threshold)" << std::endl;
  check_against_yambo(ip, ref / "o-ip_x.eps_q1_ip", 0.999);
  const std::pair<int, int> blocks[] = {{9, 13}, {27, 43}};
  for (const auto& [asked, used] : blocks) {
    const auto rpa = compute_spectrum(options(save, Theory::rpa, std::size_t(asked)), comm);
    CHECK(rpa.n_g == std::size_t(used));
    check_against_yambo(rpa, ref / ("o-rpa_ng" + std::to_string(asked) + "_x.eps_q1_inv_rpa_dyson"), 0.999);
  }
}

// The metal code path (per-channel ranges, f_v − f_c weights, variable transition lists) on a gapped system must
// reproduce the insulator path: the tiny Si run relabelled as a smearing run with two half-filled states, whose
// Fermi–Dirac occupations are again 1 and 0 up to exp(−E_gap / 2k_B T): at 30 K (this coarse run's gap is small,
// at 300 K the tails reach 1e-5) that is below 1e-20. Same retarded ordering on both sides; bound 1e-10 relative
// (rounding: the metal path sums the same transitions in the same order).
TEST_CASE("metal path on a gapped system equals the insulator path", "[reference]") {
  const fs::path tiny = test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const fs::path metal = fs::temp_directory_path() / "rung_metal_path" / "si.save";
  fs::remove_all(metal.parent_path());
  fs::create_directories(metal);
  for (const auto& e : fs::directory_iterator(tiny)) fs::copy(e.path(), metal / e.path().filename());
  {
    std::ifstream in(tiny / "data-file-schema.xml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string xml = std::regex_replace(ss.str(), std::regex("<occupations_kind>fixed</occupations_kind>"),
                                         "<occupations_kind>smearing</occupations_kind>");
    xml = std::regex_replace(xml, std::regex("<occupations>fixed</occupations>"), "<occupations>smearing</occupations>");
    xml = std::regex_replace(xml, std::regex("(<occupations size=\"8\">\\s*\\S+\\s+\\S+\\s+\\S+\\s+)\\S+\\s+\\S+"),
                             "$1 5.0e-1 5.0e-1", std::regex_constants::format_first_only);
    std::ofstream(metal / "data-file-schema.xml") << xml;
  }
  REQUIRE_FALSE(qe::Save::read(metal).is_insulator());
  OccupationOptions cold;
  cold.temperature_K = 30;
  const Occupations occ = compute_occupations(qe::Save::read(metal), cold);
  CHECK(occ.metal);
  CHECK(occ.lowest_partial[0] == 4);   // Fermi–Dirac puts the level in the gap again: 4 full bands
  CHECK(occ.highest_partial[0] == 3);
  const Comm comm;
  for (Theory th : {Theory::ipa, Theory::rpa}) {
    auto o = options(tiny, th, 9);
    o.grid = EnergyGrid{0.0, 20.0, 201};
    o.ordering = Ordering::retarded;
    const auto a = compute_spectrum(o, comm);
    o.input = metal;
    o.occupations = cold;
    o.ordering.reset();  // a metal defaults to retarded
    const auto b = compute_spectrum(o, comm);
    CHECK(b.set.provenance["parameters"]["ordering"] == "R");
    const auto& ea = a.set.components.at("x").spectrum.eps;
    const auto& eb = b.set.components.at("x").spectrum.eps;
    double worst = 0;
    for (std::size_t i = 0; i < ea.size(); ++i) worst = std::max(worst, std::abs(ea[i] - eb[i]) / std::abs(ea[i]));
    std::cout << "metal path vs insulator path (" << (th == Theory::ipa ? "ipa" : "rpa") << "): " << worst << std::endl;
    CHECK(worst < 1e-10);
  }
}

// Spinors without spin-orbit: a noncollinear, nonmagnetic run (16 two-component bands) describes the same
// electrons as the unpolarised run (8 bands, g = 2): every unpolarised transition appears twice (↑↑ and ↓↓, or any
// mixture inside each Kramers pair) with weight 1. Both fixture runs are converged to conv_thr 1e-13 with every
// band fully converged; bound 1e-5 relative on ε (IPA and RPA 9 G, x and an off-axis direction; measured 1.05e-6,
// the single-precision roundings explained at the check).
TEST_CASE("noncollinear run without spin-orbit equals the unpolarised run", "[reference]") {
  const fs::path unpol = test::qe_save("si_tiny_unpolarised", "si"), nc = test::qe_save("si_tiny_noncollinear", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny_unpolarised");
  RUNG_REQUIRE_FIXTURE("si_tiny_noncollinear");
  REQUIRE(qe::Save::read(nc).noncolin);
  const Comm comm;
  for (Theory th : {Theory::ipa, Theory::rpa}) {
    auto o = options(unpol, th, 9);
    o.directions.push_back(parse_field_direction("1,0.3,0.2"));
    o.grid = EnergyGrid{0.0, 20.0, 401};
    const auto a = compute_spectrum(o, comm);
    o.input = nc;
    const auto b = compute_spectrum(o, comm);
    CHECK(b.set.provenance["system"]["occupied_bands"] == 8);
    for (const auto& [name, ca] : a.set.components) {
      const auto& ea = ca.spectrum.eps;
      const auto& eb = b.set.components.at(name).spectrum.eps;
      double worst = 0;
      for (std::size_t i = 0; i < ea.size(); ++i) worst = std::max(worst, std::abs(ea[i] - eb[i]) / std::abs(ea[i]));
      std::cout << "noncollinear vs unpolarised (" << (th == Theory::ipa ? "ipa" : "rpa") << ", " << name
                << "): worst relative difference " << worst << std::endl;
      // the two runs sum their transitions in other orders before two single-precision roundings (the spectral
      // function per bin and chi0's store, 2^-24 = 6e-8 each, amplified where |eps| is small): measured 1.05e-6
      // here; other BLAS kernels and tile sizes gave 2.5x more on Si (the CI machine); a spin error is >= 1e-3
      CHECK(worst < 1e-5);
    }
  }
}
