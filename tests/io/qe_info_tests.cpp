// `rung info`: the built CLI on fixture saves (--json keys and values) and on bogus folders.
#include "io/qe_test_util.hpp"

#include <nlohmann/json.hpp>

using rung::test::qe::run_cli;
using rung::test::qe::TempDir;
namespace fs = std::filesystem;

namespace {
std::string q(const fs::path& p) { return std::string(1, '\'').append(p.string()).append(1, '\''); }
}  // namespace

TEST_CASE("rung info --json on the tiny Si save", "[cli][info][readers]") {
  const fs::path save = rung::test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  for (const fs::path& arg : {save, save.parent_path(), save / "data-file-schema.xml"}) {
    INFO(arg);
    const auto r = run_cli("info --json " + q(arg));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"formula", "natoms", "volume_bohr3", "nk", "nk_full_bz", "nbands", "nelec", "gap_indirect_eV",
                            "gap_direct_eV", "ecutwfc_Ry", "nsym", "pseudopotentials", "lattice_bohr", "atoms",
                            "mp_grid", "mp_shift", "source", "path"})
      CHECK(j.contains(key));
    CHECK(j["formula"] == "Si");
    CHECK(j["natoms"] == 2);
    CHECK(j["volume_bohr3"].get<double>() == Approx(std::pow(10.26, 3) / 4));
    CHECK(j["nk"] == 8);
    CHECK(j["nk_full_bz"] == 64);
    CHECK(j["nbands"] == 8);
    CHECK(j["nelec"].get<double>() == Approx(8.0));
    CHECK(j["ecutwfc_Ry"].get<double>() == Approx(12.0));
    CHECK(j["ecutrho_Ry"].get<double>() == Approx(48.0));
    CHECK(j["nsym"] == 48);
    CHECK(j["mp_grid"] == nlohmann::json::array({4, 4, 4}));
    CHECK(j["mp_shift"] == nlohmann::json::array({0, 0, 0}));
    CHECK(j["source"] == "qe");
    // pw.x: highest occupied, lowest unoccupied level (ev): 6.1592 6.8132
    CHECK(j["gap_indirect_eV"].get<double>() == Approx(6.8132 - 6.1592).margin(2e-4));
    CHECK(j["gap_direct_eV"].get<double>() >= j["gap_indirect_eV"].get<double>());
    REQUIRE(j["pseudopotentials"].size() == 1);
    CHECK(j["pseudopotentials"][0]["element"] == "Si");
    CHECK(j["pseudopotentials"][0]["file"] == "Si.pz-vbc.UPF");
    CHECK(j["pseudopotentials"][0]["kind"] == "NC");
  }
  const auto text = run_cli("info " + q(save));
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("Si.pz-vbc.UPF (NC)") != std::string::npos);
  CHECK(text.out.find("8 irreducible, 64 in the full zone") != std::string::npos);
  CHECK(text.out.find("ecutwfc 12 Ry, ecutrho 48 Ry") != std::string::npos);
  // alat (1/4, 1/4, 1/4) is (-1/4, 3/4, -1/4) in QE's ibrav=2 axes: shown wrapped into [0, 1)
  CHECK(text.out.find("Si   0.750000   0.750000   0.750000") != std::string::npos);
}

TEST_CASE("rung info --json on the yambo-tests and shifted 8x8x8 saves", "[cli][info][readers]") {
  struct W {
    const char* name;
    const char* prefix;
    int nk, nk_full, nsym;
    double homo, lumo;
  };
  // all three runs are made from ../shared's inputs: skipped together where it is absent, each required otherwise
  for (const char* name : {"yambo_tests_si", "si_shifted_888", "si_gamma_888"}) RUNG_REQUIRE_FIXTURE(name);
  for (const W& w : {W{"yambo_tests_si", "Si", 10, 256, 24, 6.0125, 7.1445}, W{"si_shifted_888", "si", 60, 2048, 24, 5.9849, 6.7487},
                     W{"si_gamma_888", "si", 29, 512, 24, 6.0702, 6.6317}}) {
    const fs::path save = rung::test::qe_save(w.name, w.prefix);
    INFO(w.name);
    const auto r = run_cli("info --json " + q(save));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["nk"] == w.nk);
    CHECK(j["nk_full_bz"] == w.nk_full);
    CHECK(j["nsym"] == w.nsym);
    CHECK(j["gap_indirect_eV"].get<double>() == Approx(w.lumo - w.homo).margin(2e-4));
  }
}

TEST_CASE("rung info on bad input: exit code 2, one line naming the path, nothing on stdout",
          "[cli][info][readers][bad-input]") {
  TempDir t;
  fs::create_directories(t.path / "bogus");
  std::ofstream(t.path / "bogus" / "README") << "nothing here\n";
  for (const fs::path& p : {t.path / "bogus", t.path / "missing"}) {
    INFO(p);
    const auto r = run_cli("info --json " + q(p));
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(p.string()) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  // A save whose wavefunction-free XML is truncated.
  const fs::path save = rung::test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const fs::path copy = rung::test::qe::copy_save(save, t.path);
  const std::string xml = rung::test::qe::slurp(copy / "data-file-schema.xml");
  rung::test::qe::spit(copy / "data-file-schema.xml", xml.substr(0, xml.size() / 3));
  const auto r = run_cli("info " + q(copy));
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find((copy / "data-file-schema.xml").string()) != std::string::npos);
}

TEST_CASE("rung info on a YAMBO SAVE (and its parent) agrees with the QE run it came from", "[cli][info][readers]") {
  const fs::path save = rung::test::shared_reference() / "yambo-5.2.4/Si_gamma8x8x8/yambo_sp/SAVE";
  RUNG_REQUIRE_SHARED(save);
  for (const fs::path& arg : {save, save.parent_path()}) {
    INFO(arg);
    const auto r = run_cli("info --json " + q(arg));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["source"] == "yambo");
    CHECK(j["formula"] == "Si");
    CHECK(j["nk"] == 29);
    CHECK(j["nk_full_bz"] == 512);
    CHECK(j["nsym"] == 24);
    CHECK(j["gap_indirect_eV"].get<double>() == Approx(6.6317 - 6.0702).margin(2e-4));
  }
}
