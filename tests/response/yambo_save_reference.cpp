// A YAMBO SAVE (p2y output with its wavefunctions) as the solver's input: the KB tables' normalisation against
// the UPF route, and the spectra against YAMBO's o- files and against rung on the pw.x run of the same inputs.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/parallel.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "io/yambo/qe_save.hpp"
#include "response/kb_projectors.hpp"
#include "response/spectrum_driver.hpp"
#include "support/paths.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/wait.h>

using namespace rung;
using namespace rung::response;
namespace fs = std::filesystem;

namespace {
const fs::path si_save = test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_sp" / "SAVE";
}

// <n|V_nl|n> summed over the four valence bands at the first k-point, by l-channel: from the UPF (QE run) and from
// p2y's tables (SAVE). The sum over a complete set of degenerate bands and over m does not depend on the phases or
// the basis inside a multiplet, so the two must agree to the SAVE's single precision.
TEST_CASE("YAMBO SAVE: KB tables give QE's non-local potential", "[reference]") {
  RUNG_REQUIRE_SHARED(si_save);
  const fs::path qe_path = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const qe::Save qe = qe::Save::read(qe_path);
  const qe::Save ys = yambo::as_qe_save(si_save);
  REQUIRE(ys.nk() == qe.nk());
  for (int ik : {0, 7}) {
    CHECK((ys.k_cart[std::size_t(ik)] - qe.k_cart[std::size_t(ik)]).norm() < 1e-6);
    double sums[2][4] = {};
    int which = 0;
    for (const qe::Save* s : {&qe, &ys}) {
      const KBProjectors kb(*s, std::sqrt(2 * s->ecutwfc) * 1.05 + 0.5);
      const auto wf = s->read_wavefunction(ik);
      const auto pw = kb.plane_waves(wf.k_cart, wf.miller);
      const Eigen::MatrixXcd P = pw.beta.adjoint() * wf.coefficients.leftCols(4);  // nproj x 4
      for (std::size_t c = 0; c < kb.size(); ++c)
        sums[which][kb.channels()[c].l] += kb.coupling()(Eigen::Index(c), Eigen::Index(c)) * P.row(Eigen::Index(c)).squaredNorm();
      ++which;
    }
    for (int l = 0; l < 2; ++l) {
      std::cout << "k " << ik << " l " << l << ": UPF " << sums[0][l] << "  tables " << sums[1][l] << "  ratio "
                << sums[0][l] / sums[1][l] << std::endl;
      CHECK(std::abs(sums[1][l] / sums[0][l] - 1) < 1e-4);
    }
  }
}

namespace {
std::vector<double> part(const std::vector<std::complex<double>>& z, bool imag) {
  std::vector<double> r;
  for (auto c : z) r.push_back(imag ? c.imag() : c.real());
  return r;
}
SpectrumOptions options(const fs::path& input, Theory theory, std::size_t ng = 1) {
  SpectrumOptions o;
  o.input = input;
  o.theory = theory;
  o.directions = {parse_field_direction("x")};
  o.show_progress = false;
  if (theory == Theory::rpa) o.gblock = GBlockRequest::of_count(ng);
  return o;
}
}  // namespace

// Bounds: against YAMBO's o- files SC >= 0.9999 (both read the same single-precision wavefunctions and KB tables;
// what is left is YAMBO's own single-precision sums and its 1e-5 Ha pole grouping; measured 0.99997-0.99998).
// Against rung on the fixture's pw.x run of the same inputs SC >= 0.99998 (IPA measured 0.999993, RPA 0.999985):
// the same solver, but the fixture re-runs pw.x, so the two runs are separate calculations (eigenvalues ~1e-6 Ha
// apart, as between rung and YAMBO's double-precision run of the Si tests), and the SAVE stores everything in
// single precision. Bands 1-8 (no multiplet cut at the window's top) give the same 0.99999x: the runs, not the
// symmetry choice of the unfolding, set this floor.
TEST_CASE("YAMBO SAVE as input: Si IPA and RPA (9, 27 G) against YAMBO and against the pw.x run", "[reference]") {
  RUNG_REQUIRE_SHARED(si_save);
  const fs::path qe_path = test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const fs::path ref = si_save.parent_path();
  const Comm comm;
  const std::pair<std::size_t, std::string> cases[] = {
      {1, "o-ip_x.eps_q1_ip"}, {9, "o-rpa_ng9_x.eps_q1_inv_rpa_dyson"}, {27, "o-rpa_ng27_x.eps_q1_inv_rpa_dyson"}};
  for (const auto& [ng, file] : cases) {
    const Theory th = ng == 1 ? Theory::ipa : Theory::rpa;
    const auto from_save = compute_spectrum(options(si_save, th, ng), comm);
    const auto from_qe = compute_spectrum(options(qe_path, th, ng), comm);
    CHECK(from_save.n_g == ng);
    CHECK(from_save.set.provenance["system"]["n_k_full"] == from_qe.set.provenance["system"]["n_k_full"]);
    const Spectrum& a = from_save.set.components.at("x").spectrum;
    const Spectrum& b = from_qe.set.components.at("x").spectrum;
    const Spectrum y = read_any_spectrum(ref / file);
    for (bool imag : {true, false}) {
      const double sc_y = compare_on_common_grid(a.energy_eV, part(a.eps, imag), y.energy_eV, part(y.eps, imag)).sc;
      const double sc_q = similarity_coefficient(a.energy_eV, part(a.eps, imag), part(b.eps, imag));
      std::cout << "SAVE " << file << (imag ? " Im" : " Re") << ": SC vs YAMBO " << sc_y << ", vs pw.x run " << sc_q
                << std::endl;
      CHECK(sc_y >= 0.9999);
      CHECK(sc_q >= 0.99998);
    }
  }
}

// A SAVE kept for its headers (no ns.wf_fragments_*) is refused, naming the missing fragment; so is a folder with
// ns.db1 but no ns.wf.
TEST_CASE("YAMBO SAVE without wavefunctions: clear refusal", "[cli]") {
  const fs::path headers_only = test::shared_reference() / "yambo-5.2.4" / "Al" / "yambo_sp" / "SAVE";
  RUNG_REQUIRE_SHARED(headers_only);
  try {
    (void)yambo::as_qe_save(headers_only);
    FAIL("a SAVE without wavefunction fragments was accepted");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(e.kind() == ErrorKind::input);
    CHECK(m.find("ns.wf_fragments_1_1") != std::string::npos);
    CHECK(m.find("no wavefunctions") != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
  }
  // Through the CLI: exit code 2, one line naming the fragment, no output file.
  {
    const fs::path cli = test::rung_cli();
    const fs::path out = fs::temp_directory_path() / "rung_headers_only.h5";
    const fs::path err = fs::temp_directory_path() / "rung_headers_only.err";
    fs::remove(out);
    const std::string cmd = cli.string() + " -q spectrum " + headers_only.string() + " --theory ipa -o " + out.string() +
                            " 2> " + err.string() + " > /dev/null";
    const int rc = std::system(cmd.c_str());
    CHECK(WIFEXITED(rc));
    CHECK(WEXITSTATUS(rc) == 2);
    CHECK_FALSE(fs::exists(out));
    std::ifstream in(err);
    std::string line, rest;
    std::getline(in, line);
    CHECK(line.find("ns.wf_fragments_1_1") != std::string::npos);
    CHECK_FALSE(std::getline(in, rest));  // one line
  }
  const fs::path lone = fs::temp_directory_path() / "rung_lone_db1";
  fs::remove_all(lone);
  fs::create_directories(lone);
  fs::copy_file(headers_only / "ns.db1", lone / "ns.db1");
  CHECK_THROWS_AS(yambo::as_qe_save(lone), Error);
  CHECK(yambo::find_save(lone).has_value());
  CHECK_FALSE(yambo::find_save(lone.parent_path() / "does-not-exist").has_value());
}
