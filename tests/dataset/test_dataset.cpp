// The data-set factory: pure helpers, restart and failure behaviour without QE, and a tiny
// end-to-end run on Si with pw.x (skipped when pw.x is missing).
#include "support/paths.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "ml/dataset_file.hpp"
#include "dataset/factory.hpp"
#include "select/report_plot.hpp"
#include "dataset/pseudo_table.hpp"
#include "dataset/qe_runs.hpp"
#include "dataset/symmetry.hpp"
#include "io/qe/pw_input.hpp"
#include "io/structures/reader.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace rung;

namespace {

// Sets an environment variable (nullptr: unsets it) for its lifetime and gives it back its old value (or unsets
// it again) afterwards, also when a REQUIRE ends the test case early.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
  std::string name_;
  std::optional<std::string> old_;
};

fs::path fresh_dir(const std::string& name) {
  const auto d = test::binary_dir() / "test-dataset" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Silicon, diamond structure, primitive fcc cell (a = 5.431 Å), as a jsonl line.
const char* si_line =
    R"({"id": "si-test", "lattice": [[0.0, 2.7155, 2.7155], [2.7155, 0.0, 2.7155], [2.7155, 2.7155, 0.0]],)"
    R"( "species": ["Si", "Si"], "frac_coords": [[0, 0, 0], [0.25, 0.25, 0.25]]})";
// hcp Mg (a = 3.21 Å, c = 5.21 Å): 4 valence electrons fill two bands under fixed occupations, but the
// divalent metal's bands overlap by about an eV: the KS "gap" across the k grid is negative.
const char* mg_line =
    R"({"id": "mg-metal", "lattice": [[3.21, 0, 0], [-1.605, 2.779942, 0], [0, 0, 5.21]],)"
    R"( "species": ["Mg", "Mg"], "frac_coords": [[0.333333, 0.666667, 0.25], [0.666667, 0.333333, 0.75]]})";
// bcc Na (a = 4.23 Å) in its 2-atom conventional cell: 2 valence electrons there, 1 in the primitive cell
// that pw.x is given after standardization.
const char* na_line =
    R"({"id": "na-metal", "lattice": [[4.23, 0, 0], [0, 4.23, 0], [0, 0, 4.23]],)"
    R"( "species": ["Na", "Na"], "frac_coords": [[0, 0, 0], [0.5, 0.5, 0.5]]})";
// Rock-salt NaCl (a = 5.64 Å): Na and Cl have no pseudopotential in the one-element table below.
const char* nacl_line =
    R"({"id": "nacl-test", "lattice": [[0.0, 2.82, 2.82], [2.82, 0.0, 2.82], [2.82, 2.82, 0.0]],)"
    R"( "species": ["Na", "Cl"], "frac_coords": [[0, 0, 0], [0.5, 0.5, 0.5]]})";

Structure si_structure() {
  Structure s;
  s.id = "si";
  const double h = 2.7155 * units::angstrom_bohr;
  s.lattice << 0, h, h, h, 0, h, h, h, 0;
  s.frac = {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(0.25, 0.25, 0.25)};
  s.numbers = {14, 14};
  return s;
}

// A pseudo dir whose table lists only `element` (rung's own file for it).
fs::path one_element_pseudo_dir(const fs::path& root, const std::string& element) {
  const auto dir = root / "pseudo";
  fs::create_directories(dir);
  const auto src = test::source_dir() / "share" / "pseudo";
  const auto table = json::parse(slurp(src / "table.json"));
  const auto entry = table.at("elements").at(element);
  fs::copy_file(src / entry.at("file").get<std::string>(), dir / entry.at("file").get<std::string>());
  json t{{"elements", {{element, entry}}}};
  std::ofstream(dir / "table.json") << t.dump(1);
  return dir;
}

dataset::FactoryRequest tiny_settings(const fs::path& root) {
  dataset::FactoryRequest s;
  s.out = root / "DATA.h5";
  s.work_dir = root / "work";
  s.ecutwfc_Ry = 12;  // far from converged: the test checks the pipeline, not the physics
  s.scf_kppa = 30;
  s.nscf_kppa = 30;
  s.window_eV = 5;
  s.solver.max_block = "30";  // small G block: the RPA runs in seconds
  return s;
}

// NaCl in a fresh dir `name`, with a table that lists only Si: computing it can only end "failed", so a
// "done" outcome proves that it was not recomputed.
dataset::FactoryRequest nacl_without_pseudopotentials(const std::string& name) {
  const auto root = fresh_dir(name);
  std::ofstream(root / "s.jsonl") << nacl_line << "\n";
  auto s = tiny_settings(root);
  s.structures = root / "s.jsonl";
  s.pseudo_dir = one_element_pseudo_dir(root, "Si");
  return s;
}

// A finished NaCl record as the factory writes it (the fields merge_records reads).
json nacl_done_record(const std::vector<float>& ipa, const std::vector<float>& rpa, double sc, double cpu_s,
                      double wall_s) {
  return {{"id", "nacl-test"},
          {"status", "done"},
          {"input_structure",
           {{"lattice_angstrom", {{0, 2.82, 2.82}, {2.82, 0, 2.82}, {2.82, 2.82, 0}}},
            {"species", {"Na", "Cl"}},
            {"frac_coords", {{0, 0, 0}, {0.5, 0.5, 0.5}}}}},
          {"eps_imag_ipa", ipa},
          {"eps_imag_rpa", rpa},
          {"sc_ipa_rpa", sc},
          {"gap_eV", 4.6},
          {"timings", {{"cpu_s", cpu_s}, {"total_wall_s", wall_s}}}};
}

}  // namespace

TEST_CASE("k grid follows pymatgen's automatic_density with even divisions", "[unit][dataset]") {
  // Si primitive cell, |a_i| = 3.840 Å: kppa 1500 -> ngrid 750, mult = (750 |a|^3)^(1/3) = 9.086 |a|,
  // floor -> 9, odd -> 10 (the paper's even rounding). kppa 100 -> mult/|a| = 3.68 -> 3 -> 4.
  const auto s = si_structure();
  CHECK(dataset::automatic_density_grid(s, 1500) == std::array<int, 3>{10, 10, 10});
  CHECK(dataset::automatic_density_grid(s, 100) == std::array<int, 3>{4, 4, 4});
  CHECK(dataset::automatic_density_grid(s, 1) == std::array<int, 3>{1, 1, 1});
}

// Whether the Gamma-centred grid n maps onto itself under every rotation R (crystal coordinates; k turns with
// (R^-1)^T): every image of every grid point lies on the grid.
static bool grid_is_closed(const std::array<int, 3>& n, const std::vector<Eigen::Matrix3i>& rotations) {
  for (const auto& r : rotations) {
    const Eigen::Matrix3d m = r.cast<double>().inverse().transpose();
    for (int a = 0; a < n[0]; ++a)
      for (int b = 0; b < n[1]; ++b)
        for (int c = 0; c < n[2]; ++c) {
          const Eigen::Vector3d k(double(a) / n[0], double(b) / n[1], double(c) / n[2]);
          const Eigen::Vector3d img = m * k;
          for (int i = 0; i < 3; ++i) {
            const double x = img[i] * n[std::size_t(i)];
            if (std::abs(x - std::round(x)) > 1e-9) return false;
          }
        }
  }
  return true;
}

TEST_CASE("k grid of a face-centred orthorhombic cell maps onto itself", "[unit][dataset]") {
  // Fmmm (69): a = 5, b = 8, c = 11 Angstrom, one atom per primitive cell (the four of the conventional cell
  // given). The primitive vectors' lengths differ (6.80 / 6.04 / 4.72), so automatic_density gives unequal
  // divisions, which the point group's mirrors mix: that grid is not closed, and its irreducible points would be
  // weighted wrongly. symmetric_grid raises the mixed directions to the largest division.
  Structure f;
  f.id = "fmmm";
  const double a = 5 * units::angstrom_bohr, b = 8 * units::angstrom_bohr, c = 11 * units::angstrom_bohr;
  f.lattice << a, 0, 0, 0, b, 0, 0, 0, c;
  f.frac = {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(0, 0.5, 0.5), Eigen::Vector3d(0.5, 0, 0.5),
            Eigen::Vector3d(0.5, 0.5, 0)};
  f.numbers = {14, 14, 14, 14};
  const auto sym = dataset::analyse_symmetry(f, 1e-3, "fmmm");
  REQUIRE(sym.spacegroup == 69);
  REQUIRE(sym.standardized.size() == 1);
  CHECK(sym.rotations.size() == 8);  // mmm
  const auto plain = dataset::automatic_density_grid(sym.standardized, 1500);
  CHECK_FALSE(grid_is_closed(plain, sym.rotations));
  const auto closed = dataset::symmetric_grid(plain, sym.rotations);
  CHECK(grid_is_closed(closed, sym.rotations));
  const int largest = *std::max_element(plain.begin(), plain.end());
  CHECK(closed == std::array<int, 3>{largest, largest, largest});
  // a lattice whose mixed directions have equal lengths keeps its grid: Si (fcc)
  const auto si = dataset::analyse_symmetry(si_structure(), 1e-3, "si");
  const auto g = dataset::automatic_density_grid(si.standardized, 1500);
  CHECK(dataset::symmetric_grid(g, si.rotations) == g);
  CHECK(grid_is_closed(g, si.rotations));
}

TEST_CASE("bands from the other tier: 2 more and 5 % rounded up", "[unit][dataset]") {
  // hand-checked: ceil(0.05 n) is 1 up to n = 20, 2 up to 40, 5 for 100
  CHECK(dataset::other_tier_band_margin(1) == 3);
  CHECK(dataset::other_tier_band_margin(20) == 3);
  CHECK(dataset::other_tier_band_margin(21) == 4);
  CHECK(dataset::other_tier_band_margin(40) == 4);
  CHECK(dataset::other_tier_band_margin(41) == 5);
  CHECK(dataset::other_tier_band_margin(100) == 7);
}

TEST_CASE("crystal system picks the field directions in spglib's standard orientation", "[unit][dataset]") {
  const auto si = dataset::analyse_symmetry(si_structure(), 1e-3, "si");
  CHECK(si.spacegroup == 227);
  CHECK(si.crystal_system == "cubic");
  CHECK(si.directions == std::vector<char>{'x'});

  // wurtzite-like hexagonal cell given with its c axis along x: the standardised cell must put c on z
  Structure w;
  w.id = "wurtzite";
  const double a = 3.19 * units::angstrom_bohr, c = 5.19 * units::angstrom_bohr;
  Eigen::Matrix3d hex;
  hex << a, 0, 0, -a / 2, a * std::sqrt(3.0) / 2, 0, 0, 0, c;
  Eigen::Matrix3d rot;  // z -> x, x -> y, y -> z
  rot << 0, 1, 0, 0, 0, 1, 1, 0, 0;
  w.lattice = hex * rot;
  w.frac = {Eigen::Vector3d(1. / 3, 2. / 3, 0), Eigen::Vector3d(2. / 3, 1. / 3, 0.5),
            Eigen::Vector3d(1. / 3, 2. / 3, 0.375), Eigen::Vector3d(2. / 3, 1. / 3, 0.875)};
  w.numbers = {31, 31, 7, 7};
  const auto h = dataset::analyse_symmetry(w, 1e-3, "wurtzite");
  CHECK(h.spacegroup == 186);
  CHECK(h.crystal_system == "hexagonal");
  CHECK(h.directions == std::vector<char>{'x', 'z'});
  const Eigen::Vector3d c_axis = h.standardized.lattice.row(2);
  CHECK(std::abs(c_axis.normalized().z()) == Approx(1.0).margin(1e-9));
  CHECK(h.standardized.volume() == Approx(w.volume()).epsilon(1e-6));
  CHECK(dataset::field_directions("orthorhombic") == std::vector<char>{'x', 'y', 'z'});
  CHECK(dataset::crystal_system_of(160) == "trigonal");
}

TEST_CASE("rung's pseudopotential table covers every element of the structure set", "[unit][dataset]") {
  const auto table = dataset::PseudoTable::load(test::source_dir() / "share" / "pseudo");
  for (const char* el : {"H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
                         "Ar", "K", "Ca", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "In", "Sn", "Sb", "Te", "I",
                         "Xe"}) {
    INFO(el);
    const auto* p = table.find(el);
    REQUIRE(p != nullptr);
    CHECK(fs::exists(p->file));
    CHECK(p->ecutwfc_Ry >= 20);
    CHECK(p->ecutwfc_Ry <= 120);
  }
  const auto dir = fresh_dir("bad-table");
  std::ofstream(dir / "table.json") << R"({"elements": {"Si": {"file": "missing.UPF", "ecutwfc_Ry": 30, "z_valence": 4}}})";
  CHECK_THROWS_WITH(dataset::PseudoTable::load(dir), Catch::Contains("missing.UPF") && Catch::Contains("table.json"));
}

TEST_CASE("a structure with an element without pseudopotential is recorded as failed, not fatal", "[unit][dataset]") {
  const auto s = nacl_without_pseudopotentials("failure");
  const auto sum = dataset::run_dataset(s, Comm::self());
  CHECK(sum.total == 1);
  CHECK(sum.failed == 1);
  const auto rec = json::parse(slurp(dataset::record_path(s.work_dir, "nacl-test")));
  CHECK(rec["status"] == "failed");
  CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("no pseudopotential for Cl, Na"));
  const auto data = read_optimate_dataset(s.out);
  REQUIRE(data.materials.size() == 1);
  CHECK(data.materials[0].eps_imag_rpa.empty());
  CHECK(json::parse(data.materials[0].provenance)["status"] == "failed");
  CHECK_THAT(dataset::dataset_stats(s.out), Catch::Contains("failed 1") && Catch::Contains("no pseudopotential"));
}

TEST_CASE("a failed material's reason names the work folder's files by their place in it", "[unit][dataset]") {
  auto s = nacl_without_pseudopotentials("portable-reason");
  s.work_dir = s.pseudo_dir.parent_path();  // the table lies inside the work folder: pseudo/table.json
  dataset::run_dataset(s, Comm::self());
  const auto reason = json::parse(slurp(dataset::record_path(s.work_dir, "nacl-test")))["reason"].get<std::string>();
  CHECK_THAT(reason, Catch::Contains("pseudo/table.json"));
  CHECK(reason.find(s.work_dir.string()) == std::string::npos);
}

TEST_CASE("a finished material is never recomputed and a claim file left behind blocks nothing", "[unit][dataset]") {
  const auto s = nacl_without_pseudopotentials("restart");
  fs::create_directories(s.work_dir / "records");
  fs::create_directories(s.work_dir / "claims");
  std::ofstream(s.work_dir / "claims" / "other.full.claim");  // left behind by a killed run: nobody holds its lock
  const json done = nacl_done_record(std::vector<float>(2001, 1.0f), std::vector<float>(2001, 0.5f), 0.5, 7200, 3600);
  const auto rec_file = dataset::record_path(s.work_dir, "nacl-test");
  std::ofstream(rec_file) << done.dump() << "\n";
  const std::string before = slurp(rec_file);
  const auto sum = dataset::run_dataset(s, Comm::self());
  CHECK(sum.already_done == 1);
  CHECK(sum.computed == 0);
  CHECK(slurp(rec_file) == before);
  CHECK(!fs::exists(s.work_dir / "qe" / "nacl-test"));
  const auto data = read_optimate_dataset(s.out);
  REQUIRE(data.materials.size() == 1);
  CHECK(data.materials[0].eps_imag_ipa.size() == 2001);
  CHECK(data.materials[0].eps_imag_rpa[100] == 0.5f);
  CHECK(*data.materials[0].sc_ipa_rpa == 0.5);
  CHECK(*data.materials[0].gap_eV == 4.6);

  // a stale claim file of the material itself (no lock): the material is taken
  fs::remove(rec_file);
  fs::remove(s.out);  // else the run takes the material back from the data set
  std::ofstream(s.work_dir / "claims" / "nacl-test.full.claim");
  dataset::run_dataset(s, Comm::self());
  CHECK(json::parse(slurp(rec_file))["status"] == "failed");  // computed (the table lacks Na and Cl)
  CHECK_FALSE(fs::exists(s.work_dir / "claims" / "nacl-test.full.claim"));
}

TEST_CASE("a material whose claim another process holds is left to it", "[unit][dataset]") {
  // Another run on the same work dir computes nacl-test: it holds the flock on the claim file. This run must
  // neither compute the material nor touch its QE directory.
  const auto s = nacl_without_pseudopotentials("claimed");
  fs::create_directories(s.work_dir / "claims");
  fs::create_directories(s.work_dir / "qe" / "nacl-test");
  std::ofstream(s.work_dir / "qe" / "nacl-test" / "nscf.out") << "the other run's pw.x output\n";
  const auto claim = s.work_dir / "claims" / "nacl-test.full.claim";
  const int fd = ::open(claim.c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  const auto sum = dataset::run_dataset(s, Comm::self());
  ::close(fd);
  CHECK(sum.failed == 0);
  CHECK_FALSE(fs::exists(dataset::record_path(s.work_dir, "nacl-test")));
  CHECK(fs::exists(s.work_dir / "qe" / "nacl-test" / "nscf.out"));
}

TEST_CASE("an RPA label of a superseded G-block rule is computed again", "[unit][dataset]") {
  // Stale: the neighbour-shell sweep (no "rule"), and an E-vs-2E sweep that converged on a pair whose smaller
  // block lies below today's 4 Ry start (2.08 vs 4.17 Ry: rock-salt NaF's 15 and 27 G). Current: a pair from
  // 4.17 Ry up, and a sweep that reached its cap unconverged. `run` must recompute the stale ones; with a table
  // lacking Na and Cl that ends "failed", which proves the recomputation.
  const json rule = "SC(block E, block 2E) >= threshold on x, y and z; the larger block is kept";
  const json pair_2Ry = json::array({{{"n_g", 15}, {"shell_energy_Ry", 2.08}}, {{"n_g", 27}, {"shell_energy_Ry", 4.17}}});
  const json pair_4Ry = json::array({{{"n_g", 27}, {"shell_energy_Ry", 4.17}}, {{"n_g", 59}, {"shell_energy_Ry", 8.34}}});
  const std::vector<std::pair<json, bool>> cases = {
      {{{"chosen_n_g", 3}, {"history", json::array()}}, true},
      {{{"rule", rule}, {"converged", true}, {"history", pair_2Ry}}, true},
      {{{"rule", rule}, {"converged", true}, {"history", pair_4Ry}}, false},
      {{{"rule", rule}, {"converged", false}, {"history", pair_2Ry}}, false}};
  int k = 0;
  for (const auto& [convergence, stale] : cases) {
    const auto s = nacl_without_pseudopotentials("label-" + std::to_string(k++));
    fs::create_directories(s.work_dir / "records");
    json done = nacl_done_record(std::vector<float>(2001, 1.0f), std::vector<float>(2001, 0.5f), 0.5, 60, 60);
    done["rpa_provenance"] = {{"convergence", convergence}};
    std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << done.dump() << "\n";
    const auto sum = dataset::run_dataset(s, Comm::self());
    const auto rec = json::parse(slurp(dataset::record_path(s.work_dir, "nacl-test")));
    INFO(convergence.dump());
    CHECK(sum.already_done == (stale ? 0u : 1u));
    CHECK(rec["status"] == (stale ? "failed" : "done"));
  }
}

TEST_CASE("the stale-label rule follows the run's own converge_start", "[unit][dataset]") {
  // A run started at 2 Ry keeps a label that converged on a pair from 2.08 Ry (the default 4 Ry start would
  // recompute it, and every new label of that run, at each start); a start given as a count compares counts.
  const json rule = "SC(block E, block 2E) >= threshold on x, y and z; the larger block is kept";
  const json pair_2Ry =
      json::array({{{"n_g", 15}, {"shell_energy_Ry", 2.08}}, {{"n_g", 27}, {"shell_energy_Ry", 4.17}}});
  const std::vector<std::pair<std::string, bool>> cases = {
      {"2Ry", false}, {"1.5Ry", false}, {"3Ry", true}, {"15", false}, {"27", true}};
  int k = 0;
  for (const auto& [start, stale] : cases) {
    auto s = nacl_without_pseudopotentials("start-" + std::to_string(k++));
    s.solver.converge_start = start;
    fs::create_directories(s.work_dir / "records");
    json done = nacl_done_record(std::vector<float>(2001, 1.0f), std::vector<float>(2001, 0.5f), 0.5, 60, 60);
    done["rpa_provenance"] = {{"convergence", {{"rule", rule}, {"converged", true}, {"history", pair_2Ry}}}};
    std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << done.dump() << "\n";
    const auto sum = dataset::run_dataset(s, Comm::self());
    INFO(start);
    CHECK(sum.already_done == (stale ? 0u : 1u));
  }
}

TEST_CASE("transient failures and cells the atom limit now admits are computed again but other failures are not",
          "[unit][dataset]") {
  // With a table lacking Na and Cl a recomputation ends "failed" without "transient": that outcome proves it.
  const auto record = [](const std::string& name, const json& fields, int max_atoms) {
    auto s = nacl_without_pseudopotentials(name);
    s.max_atoms = max_atoms;
    fs::create_directories(s.work_dir / "records");
    json r = nacl_done_record({}, {}, 1.0, 6, 6);  // its structures and settings, without spectra
    for (const char* key : {"eps_imag_ipa", "eps_imag_rpa", "sc_ipa_rpa"}) r.erase(key);
    r.update(fields);
    std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << r.dump() << "\n";
    const auto sum = dataset::run_dataset(s, Comm::self());
    return std::make_pair(sum.already_done, json::parse(slurp(dataset::record_path(s.work_dir, "nacl-test"))));
  };
  SECTION("a transient failure with attempts left, then one without") {
    auto [done, rec] = record("transient-1", {{"status", "failed"}, {"transient", true}, {"attempts", 1}}, 6);
    CHECK(done == 0);
    CHECK(rec["status"] == "failed");
    CHECK_FALSE(rec.contains("transient"));  // the material's own failure now: final
    std::tie(done, rec) = record("transient-3", {{"status", "failed"}, {"transient", true}, {"attempts", 3}}, 6);
    CHECK(done == 1);
    CHECK(rec["attempts"] == 3);
  }
  SECTION("a failure that is the material's own stays") {
    const auto [done, rec] = record("own-failure", {{"status", "failed"}, {"reason", "KS gap -0.2 eV"}}, 6);
    CHECK(done == 1);
    CHECK(rec["reason"] == "KS gap -0.2 eV");
  }
  SECTION("skipped for --max-atoms: again when the limit admits its primitive cell") {
    const json skipped{{"status", "skipped"},
                       {"reason", "8 atoms in the primitive cell (8 in the input) > --max-atoms 6"},
                       {"natoms_primitive", 8}};
    CHECK(record("skip-kept", skipped, 6).first == 1);
    CHECK(record("skip-kept-8", skipped, 8).first == 0);
    // an older record without natoms_primitive: its input cell (2 atoms) is within 6
    CHECK(record("skip-old", {{"status", "skipped"}, {"reason", "12 atoms > --max-atoms 1"}}, 6).first == 0);
  }
}

TEST_CASE("a cell above --max-atoms whose primitive cell is within it is computed, not skipped", "[unit][dataset]") {
  // rock-salt NaCl as its 8-atom conventional cell, --max-atoms 2: the primitive cell (2 atoms) decides; the
  // table lacks Na and Cl, so it ends "failed" for want of a pseudopotential rather than "skipped"
  auto s = nacl_without_pseudopotentials("conventional");
  s.max_atoms = 2;
  const double a = 5.64;
  Structure c;
  c.id = "nacl-conv";
  c.lattice = Eigen::Matrix3d::Identity() * a * units::angstrom_bohr;
  for (const auto& f : {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(0, 0.5, 0.5), Eigen::Vector3d(0.5, 0, 0.5),
                        Eigen::Vector3d(0.5, 0.5, 0)}) {
    c.frac.push_back(f);
    c.numbers.push_back(11);
    c.frac.push_back(f + Eigen::Vector3d(0.5, 0, 0));
    c.numbers.push_back(17);
  }
  for (auto& f : c.frac) f = f.array() - f.array().floor();
  auto rec = dataset::compute_material(c, s);
  CHECK(rec["status"] == "failed");
  CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("no pseudopotential"));
  s.max_atoms = 1;
  rec = dataset::compute_material(c, s);
  CHECK(rec["status"] == "skipped");
  CHECK(rec["natoms_primitive"] == 2);
  CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("2 atoms in the primitive cell (8 in the input)"));
}

TEST_CASE("a pw.x killed by SIGKILL is a transient failure: recorded with its attempt, computed again later",
          "[unit][dataset]") {
  const auto root = fresh_dir("sigkill");
  std::ofstream(root / "s.jsonl") << si_line << "\n";
  std::ofstream(root / "killed-pw.sh") << "#!/bin/sh\necho 'Program received signal SIGKILL'\nkill -KILL $$\n";
  fs::permissions(root / "killed-pw.sh", fs::perms::owner_all);
  auto s = tiny_settings(root);
  s.structures = root / "s.jsonl";
  s.pseudo_dir = one_element_pseudo_dir(root, "Si");
  s.pw_command = (root / "killed-pw.sh").string();
  for (int attempt = 1; attempt <= 4; ++attempt) {
    const auto sum = dataset::run_dataset(s, Comm::self());
    const auto rec = json::parse(slurp(dataset::record_path(s.work_dir, "si-test")));
    INFO(rec.dump());
    CHECK(rec["status"] == "failed");
    CHECK(rec["transient"] == true);
    CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("SIGKILL"));
    // three attempts in all; the fourth run leaves the material alone
    CHECK(rec["attempts"] == std::min(attempt, 3));
    CHECK(sum.already_done == (attempt <= 3 ? 0u : 1u));
  }
}

TEST_CASE("both tiers of a material merge into one entry and come back from DATA.h5 alone", "[unit][dataset]") {
  // nacl-test: full and lite records; si-only-lite: a lite record alone (its full tier "pending").
  const auto s = nacl_without_pseudopotentials("tiers");
  fs::create_directories(s.work_dir / "records");
  std::vector<float> ipa(2001), lite(2001);
  for (int i = 0; i < 2001; ++i) {
    ipa[std::size_t(i)] = 0.001f * float(i);
    lite[std::size_t(i)] = 0.0011f * float(i);
  }
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << nacl_done_record(ipa, ipa, 1.0, 60, 60).dump() << "\n";
  json l = nacl_done_record({}, {}, 1.0, 6, 6);
  l.erase("eps_imag_ipa");
  l.erase("eps_imag_rpa");
  l.erase("sc_ipa_rpa");
  l["tier"] = "lite";
  l["eps_imag_lite"] = lite;
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test", dataset::Tier::lite)) << l.dump() << "\n";
  l["id"] = "si-only-lite";
  std::ofstream(dataset::record_path(s.work_dir, "si-only-lite", dataset::Tier::lite)) << l.dump() << "\n";
  CHECK(dataset::record_path(s.work_dir, "x", dataset::Tier::lite).filename() == "x.lite.json");
  CHECK(dataset::merge_records(s.work_dir, s.out) == 2);
  const auto data = read_optimate_dataset(s.out);
  REQUIRE(data.materials.size() == 2);
  const auto& nacl = data.materials[0].id == "nacl-test" ? data.materials[0] : data.materials[1];
  const auto& only = data.materials[0].id == "nacl-test" ? data.materials[1] : data.materials[0];
  CHECK(nacl.eps_imag_ipa.size() == 2001);
  CHECK(nacl.eps_imag_lite.size() == 2001);
  CHECK(only.eps_imag_ipa.empty());
  CHECK(only.eps_imag_lite.size() == 2001);
  const auto pn = json::parse(nacl.provenance), po = json::parse(only.provenance);
  CHECK(pn["status"] == "done");
  CHECK(pn["lite"]["status"] == "done");
  CHECK(po["status"] == "pending");
  CHECK(po["lite"]["tier"] == "lite");
  const auto text = dataset::dataset_stats(s.out);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("lite tier (IPA only): done 2"));
  CHECK_THAT(text, Catch::Contains("done by cell size (atoms: full / lite): 2: 1 / 2;"));
  // SC(lite, full) = 1 - 0.1 (lite is 1.1 x the full IPA everywhere)
  CHECK_THAT(text, Catch::Contains("SC(lite, full IPA): 1 materials, median 0.900"));

  // the work dir is lost: a run of either tier takes its records from DATA.h5; a pending full tier gets no record
  fs::remove_all(s.work_dir);
  CHECK(dataset::seed_records_from_dataset(s.work_dir, s.out) == 3);
  CHECK(fs::exists(dataset::record_path(s.work_dir, "nacl-test")));
  CHECK(fs::exists(dataset::record_path(s.work_dir, "nacl-test", dataset::Tier::lite)));
  CHECK(fs::exists(dataset::record_path(s.work_dir, "si-only-lite", dataset::Tier::lite)));
  CHECK_FALSE(fs::exists(dataset::record_path(s.work_dir, "si-only-lite")));
  const auto back = json::parse(slurp(dataset::record_path(s.work_dir, "si-only-lite", dataset::Tier::lite)));
  CHECK(back["eps_imag_lite"].size() == 2001);
  CHECK_FALSE(back.contains("lite"));
}

TEST_CASE("records merge into DATA.h5 without the absolute paths of the machine that made them", "[unit][dataset]") {
  // Records written before the rule, on another machine: settings and spectrum provenance with that machine's
  // absolute paths (here a folder beside the test's own, which nothing reads).
  const auto s = nacl_without_pseudopotentials("portable");
  const fs::path old = s.work_dir.parent_path() / "old-machine";
  fs::create_directories(s.work_dir / "records");
  json full = nacl_done_record(std::vector<float>(2001, 1.0f), std::vector<float>(2001, 0.5f), 0.5, 60, 60);
  full["settings"] = {{"pseudo_dir", (old / "rung" / "share" / "pseudo").string()},
                      {"work_dir", (old / "factory" / "WORK").string()},
                      {"out", (old / "round8.h5").string()},
                      {"structures", "ordered.jsonl"}};
  const fs::path qe = old / "factory" / "WORK" / "qe" / "nacl-test" / "out" / "rung.save";
  full["rpa_provenance"] = {
      {"inputs",
       {{"qe_save", qe.string()}, {"qe_xml", (qe / "data-file-schema.xml").string()}, {"qe_version", "6.7MaX"}}}};
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << full.dump() << "\n";
  json lite = nacl_done_record({}, {}, 1.0, 6, 6);
  for (const char* k : {"eps_imag_ipa", "eps_imag_rpa", "sc_ipa_rpa"}) lite.erase(k);
  lite["tier"] = "lite";
  lite["eps_imag_lite"] = std::vector<float>(2001, 1.0f);
  // a table the user gave (the test's own one-element table) keeps its path
  lite["settings"] = {{"pseudo_dir", s.pseudo_dir.string()}, {"work_dir", "lite-work"}};
  lite["ipa_provenance"] = {
      {"inputs", {{"qe_save", (old / "lite" / "qe" / "nacl-test" / "out" / "rung.save").string()}}}};
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test", dataset::Tier::lite)) << lite.dump() << "\n";

  REQUIRE(dataset::merge_records(s.work_dir, s.out) == 1);
  const auto data = read_optimate_dataset(s.out);
  REQUIRE(data.materials.size() == 1);
  const auto p = json::parse(data.materials[0].provenance);
  INFO(p.dump(1));
  CHECK(p["settings"]["pseudo_dir"] == "share/pseudo");
  CHECK(p["settings"]["work_dir"] == "WORK");
  CHECK(p["settings"]["out"] == "round8.h5");
  CHECK(p["settings"]["structures"] == "ordered.jsonl");
  CHECK(p["rpa_provenance"]["inputs"]["qe_save"] == "qe/nacl-test/out/rung.save");
  CHECK(p["rpa_provenance"]["inputs"]["qe_xml"] == "qe/nacl-test/out/rung.save/data-file-schema.xml");
  CHECK(p["rpa_provenance"]["inputs"]["qe_version"] == "6.7MaX");
  CHECK(p["lite"]["settings"]["pseudo_dir"] == s.pseudo_dir.string());
  CHECK(p["lite"]["settings"]["work_dir"] == "lite-work");
  CHECK(p["lite"]["ipa_provenance"]["inputs"]["qe_save"] == "qe/nacl-test/out/rung.save");
  CHECK(data.materials[0].provenance.find(old.string()) == std::string::npos);
}

TEST_CASE("a run resumes from its DATA.h5 alone: materials in it are not recomputed", "[unit][dataset]") {
  // A first run's records, merged into DATA.h5; then the work dir is lost (a fresh clone has only the
  // committed data set). The second run must take the material from DATA.h5, not recompute it: with a
  // table lacking Na and Cl a recomputation would end "failed".
  const auto s = nacl_without_pseudopotentials("resume-from-data");
  std::vector<float> ipa(2001), rpa(2001);
  for (int i = 0; i < 2001; ++i) {
    ipa[std::size_t(i)] = 0.001f * float(i);
    rpa[std::size_t(i)] = 0.0007f * float(i);
  }
  const json done = nacl_done_record(ipa, rpa, 0.7, 60, 60);
  fs::create_directories(s.work_dir / "records");
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << done.dump() << "\n";
  dataset::merge_records(s.work_dir, s.out, {});
  const auto first = read_optimate_dataset(s.out);
  fs::remove_all(s.work_dir);

  const auto sum = dataset::run_dataset(s, Comm::self());
  CHECK(sum.already_done == 1);
  CHECK(sum.failed == 0);
  CHECK(!fs::exists(s.work_dir / "qe" / "nacl-test"));
  const auto again = read_optimate_dataset(s.out);
  REQUIRE(again.materials.size() == 1);
  // the stored spectra are 16-bit: writing what was read again reproduces them to float32 rounding
  for (auto [a, b] : {std::pair{&again.materials[0].eps_imag_ipa, &first.materials[0].eps_imag_ipa},
                      std::pair{&again.materials[0].eps_imag_rpa, &first.materials[0].eps_imag_rpa}}) {
    REQUIRE(a->size() == b->size());
    for (std::size_t i = 0; i < a->size(); ++i) CHECK(std::abs((*a)[i] - (*b)[i]) <= 1e-6f * std::abs((*b)[i]) + 1e-9f);
  }
  CHECK(json::parse(again.materials[0].provenance) == json::parse(first.materials[0].provenance));

  SECTION("a record deleted after the seeding, or one cut short, is computed again") {
    // the seeding is done once per content of DATA.h5: a record removed to redo the material stays removed, so the
    // material is computed again (and ends "failed" with this table)
    fs::remove(dataset::record_path(s.work_dir, "nacl-test"));
    auto sum2 = dataset::run_dataset(s, Comm::self());
    CHECK(sum2.already_done == 0);
    CHECK(sum2.computed == 1);
    CHECK(sum2.failed == 1);
    // an empty record (a machine that went down while writing it) is unfinished, not an error that stops the run
    std::ofstream(dataset::record_path(s.work_dir, "nacl-test"), std::ios::trunc).flush();
    sum2 = dataset::run_dataset(s, Comm::self());
    CHECK(sum2.computed == 1);
    CHECK(json::parse(slurp(dataset::record_path(s.work_dir, "nacl-test")))["status"] == "failed");
  }

  SECTION("a record deleted after a merge stays deleted (the merged file is marked seeded)") {
    // a merge that changes DATA.h5 (a second material: its fingerprint differs whatever the clock says), then the
    // record removed to redo the material: the next run must compute it, not write it back from the new DATA.h5
    json other = done;
    other["id"] = "other-test";
    std::ofstream(dataset::record_path(s.work_dir, "other-test")) << other.dump() << "\n";
    dataset::merge_records(s.work_dir, s.out, {});
    REQUIRE(read_optimate_dataset(s.out).materials.size() == 2);
    CHECK(fs::exists(dataset::seed_marker(s.work_dir, s.out)));
    fs::remove(dataset::record_path(s.work_dir, "nacl-test"));
    const auto sum2 = dataset::run_dataset(s, Comm::self());
    CHECK(sum2.already_done == 0);
    CHECK(sum2.computed == 1);
    // a data set that was never seeded into this work folder is not marked by a merge: its materials are seeded
    // at the next run
    const auto fresh = s.work_dir.parent_path() / "fresh-work";
    fs::remove_all(fresh);
    fs::create_directories(fresh / "records");
    std::ofstream(dataset::record_path(fresh, "other-test")) << other.dump() << "\n";
    dataset::merge_records(fresh, s.out, {"other-test"});
    CHECK(!fs::exists(dataset::seed_marker(fresh, s.out)));
    CHECK(dataset::seed_records_from_dataset(fresh, s.out) == 1);  // nacl-test, which only the data set holds
  }

  SECTION("a DATA.h5 without factory provenance is refused, naming the file") {
    OptimateDataset foreign;
    DatasetMaterial m;
    m.id = "x";
    m.structure = si_structure();
    foreign.materials.push_back(m);
    write_optimate_dataset(s.out, foreign);
    fs::remove_all(s.work_dir);
    CHECK_THROWS_WITH(dataset::run_dataset(s, Comm::self()),
                      Catch::Contains("DATA.h5") && Catch::Contains("no factory provenance"));
  }
}

TEST_CASE("merging the records of a few ids keeps the other materials of DATA.h5", "[unit][dataset]") {
  const auto s = nacl_without_pseudopotentials("merge-keeps-others");
  OptimateDataset d;
  DatasetMaterial other;
  other.id = "other";
  other.structure = si_structure();
  other.provenance = json{{"id", "other"}, {"status", "failed"}, {"reason", "kept"}}.dump();
  d.materials.push_back(other);
  write_optimate_dataset(s.out, d);
  std::vector<float> ipa(2001, 1.0f), rpa(2001, 0.5f);
  fs::create_directories(s.work_dir / "records");
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test")) << nacl_done_record(ipa, rpa, 0.5, 1, 1).dump() << "\n";
  CHECK(dataset::merge_records(s.work_dir, s.out, {"nacl-test"}) == 2);
  const auto merged = read_optimate_dataset(s.out);
  REQUIRE(merged.materials.size() == 2);
  CHECK(merged.materials[0].id == "nacl-test");
  CHECK(merged.materials[1].id == "other");
  CHECK(json::parse(merged.materials[1].provenance)["reason"] == "kept");
}

TEST_CASE("a delta holds only what a work folder adds to a data set, and combining it back gives the merge",
          "[unit][dataset]") {
  // The committed data set (base) seeded into a fresh work folder, as a farm does at its start: the delta of the
  // unchanged folder is empty; a new material and one computed again (other timings) are the delta; the base
  // combined with the delta holds what merging the folder into the base holds.
  const auto s = nacl_without_pseudopotentials("delta");
  std::vector<float> ipa(2001), rpa(2001);
  for (int i = 0; i < 2001; ++i) {
    ipa[std::size_t(i)] = 0.001f * float(i);
    rpa[std::size_t(i)] = 0.0007f * float(i);
  }
  fs::create_directories(s.work_dir / "records");
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test"))
      << nacl_done_record(ipa, rpa, 0.7, 60, 60).dump() << "\n";
  const fs::path base = s.work_dir.parent_path() / "base.h5", delta = s.work_dir.parent_path() / "delta.h5";
  dataset::merge_records(s.work_dir, base);
  // the farm's own record, merged: the file keeps its spectra in 16 bits, one scale per array (an absolute step of
  // (max - min) / 65535, far more than float rounding at the small values); the same material all the same
  CHECK(dataset::write_records_delta(s.work_dir, base, delta) == 0);
  fs::remove_all(s.work_dir);
  REQUIRE(dataset::seed_records_from_dataset(s.work_dir, base) == 1);
  // the seeded record holds the base's 16-bit spectra, not the first record's: the same material all the same
  CHECK(dataset::write_records_delta(s.work_dir, base, delta) == 0);
  REQUIRE(read_optimate_dataset(delta).materials.empty());

  json other = nacl_done_record(ipa, ipa, 1.0, 30, 30);
  other["id"] = "other-test";
  std::ofstream(dataset::record_path(s.work_dir, "other-test")) << other.dump() << "\n";
  CHECK(dataset::write_records_delta(s.work_dir, base, delta) == 1);
  CHECK(read_optimate_dataset(delta).materials.at(0).id == "other-test");
  // nacl-test computed again: other timings (its spectra unchanged)
  std::ofstream(dataset::record_path(s.work_dir, "nacl-test"), std::ios::trunc)
      << nacl_done_record(ipa, rpa, 0.7, 61, 61).dump() << "\n";
  REQUIRE(dataset::write_records_delta(s.work_dir, base, delta) == 2);

  const fs::path combined = s.work_dir.parent_path() / "combined.h5", merged = s.work_dir.parent_path() / "merged.h5";
  CHECK(dataset::combine_datasets({base, delta}, combined) == 2);
  fs::copy_file(base, merged, fs::copy_options::overwrite_existing);
  dataset::merge_records(s.work_dir, merged);
  const auto c = read_optimate_dataset(combined), m = read_optimate_dataset(merged);
  REQUIRE(c.materials.size() == 2);
  REQUIRE(m.materials.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO(c.materials[i].id);
    CHECK(c.materials[i].id == m.materials[i].id);
    CHECK(json::parse(c.materials[i].provenance) == json::parse(m.materials[i].provenance));
    CHECK(c.materials[i].eps_imag_rpa == m.materials[i].eps_imag_rpa);
  }
  CHECK(json::parse(c.materials[0].provenance)["timings"]["cpu_s"] == 61);  // the later file's nacl-test
  // each file records its making: the command, its inputs by name (no machine's folders) with their fingerprints
  const auto made = [](const fs::path& f) {
    return json::parse(read_optimate_dataset(f).provenance);
  };
  CHECK(made(combined)["command"] == "rung dataset combine base.h5 delta.h5 --out combined.h5");
  CHECK(made(combined)["inputs"] ==
        json::array({json{{"file", "base.h5"}, {"fingerprint", file_fingerprint(base)}},
                     json{{"file", "delta.h5"}, {"fingerprint", file_fingerprint(delta)}}}));
  CHECK(made(delta)["command"] ==
        "rung dataset delta " + s.work_dir.filename().string() + " --base base.h5 --out delta.h5");
  CHECK(made(delta)["inputs"][0] == json{{"work_dir", s.work_dir.filename().string()}, {"materials", 2}});
  CHECK(made(delta)["inputs"][1]["fingerprint"] == file_fingerprint(base));
  CHECK(made(merged)["command"] == "rung dataset merge " + s.work_dir.filename().string() + " --out merged.h5");
  CHECK(made(merged)["inputs"][1]["file"] == "merged.h5");  // the data set merged into, before the merge
  // the base combined after the delta: its older nacl-test wins
  dataset::combine_datasets({delta, base}, combined);
  CHECK(json::parse(read_optimate_dataset(combined).materials[0].provenance)["timings"]["cpu_s"] == 60);
  CHECK_THROWS_WITH(dataset::write_records_delta(s.work_dir, base, base), Catch::Contains("cannot replace its base"));
}

TEST_CASE("ids that would name a folder outside the work folder are refused", "[unit][dataset]") {
  const auto root = fresh_dir("bad-ids");
  const auto pseudo = one_element_pseudo_dir(root, "Si");
  for (const std::string id : {"..", ".", "a/b"}) {
    auto line = json::parse(si_line);
    line["id"] = id;
    std::ofstream(root / "s.jsonl", std::ios::trunc) << line.dump() << "\n";
    auto s = tiny_settings(root);
    s.structures = root / "s.jsonl";
    s.pseudo_dir = pseudo;
    CHECK_THROWS_WITH(dataset::run_dataset(s, Comm::self()),
                      Catch::Contains("s.jsonl") && Catch::Contains("'" + id + "'"));
  }
  CHECK(fs::exists(root / "s.jsonl"));  // nothing of the folder was removed
}

TEST_CASE("a pw.x that cannot be started stops the run and records nothing", "[unit][dataset]") {
  // exit status 127 (command not found) would fail every material the same way: not a material's failure
  const auto root = fresh_dir("no-pw");
  std::ofstream(root / "s.jsonl") << si_line << "\n";
  auto s = tiny_settings(root);
  s.structures = root / "s.jsonl";
  s.pseudo_dir = one_element_pseudo_dir(root, "Si");
  s.pw_command = "rung-test-no-such-pw.x";
  CHECK_THROWS_AS(dataset::run_dataset(s, Comm::self()), dataset::RunStopped);
  CHECK_FALSE(fs::exists(dataset::record_path(s.work_dir, "si-test")));
}

TEST_CASE("dataset stats: counts, elements, SC histogram, CPU time", "[unit][dataset]") {
  const auto root = fresh_dir("stats");
  OptimateDataset d;
  const double sc[] = {0.55, 0.75, 0.95};
  for (int i = 0; i < 3; ++i) {
    DatasetMaterial m;
    m.id = "m" + std::to_string(i);
    m.structure = si_structure();
    if (i == 2) m.structure.numbers = {14, 6};
    m.eps_imag_ipa.assign(2001, 1.0f);
    m.eps_imag_rpa.assign(2001, 1.0f);
    m.sc_ipa_rpa = sc[i];
    m.gap_eV = 1.0 + i;
    m.provenance = json{{"status", "done"}, {"crystal_system", "cubic"}, {"timings", {{"cpu_s", 3600.0}}}}.dump();
    d.materials.push_back(m);
  }
  write_optimate_dataset(root / "d.h5", d);
  const auto text = dataset::dataset_stats(root / "d.h5");
  INFO(text);
  CHECK_THAT(text, Catch::Contains("3 materials"));
  CHECK_THAT(text, Catch::Contains("status: done 3"));
  CHECK_THAT(text, Catch::Contains("elements (2): C 1 Si 3"));
  CHECK_THAT(text, Catch::Contains("0.5-0.6     1 #"));
  CHECK_THAT(text, Catch::Contains("0.9-1.0     1 #"));
  CHECK_THAT(text, Catch::Contains("median 0.750"));
  CHECK_THAT(text, Catch::Contains("CPU time: 3.00 CPU-h in total (60.00 CPU-min per material)"));
  CHECK_THAT(text, Catch::Contains("gap: 3 materials, min 1.000 eV, median 2.000 eV, max 3.000 eV"));

  // the figure's data: three SC values, three (atoms, CPU minutes) points of the full tier, no lite tier
  dataset::DatasetFigure figure;
  dataset::dataset_stats(root / "d.h5", &figure);
  CHECK(figure.sc_ipa_rpa.size() == 3);
  REQUIRE(figure.full_cost.size() == 3);
  CHECK(figure.full_cost[0] == std::pair<double, double>{2.0, 60.0});
  CHECK(figure.lite_cost.empty());
  if (select::have_plots()) {
    for (const char* name : {"d.png", "d.svg"}) {
      select::plot_dataset(figure, root / name);
      CHECK(fs::file_size(root / name) > 1000);
    }
    CHECK_THROWS_AS(select::plot_dataset(figure, root / "d.pdf"), Error);
  }
}

TEST_CASE("end to end on tiny Si: QE scf + nscf, gap, bands to the window, native spectra or a clear record",
          "[cli][dataset][qe]") {
  RUNG_SKIP_UNLESS(std::system("command -v pw.x > /dev/null 2>&1") == 0, "pw.x not installed");
  // no GLIBC_TUNABLES of the caller's (restored at the end): the factory's own malloc settings are checked below
  const ScopedEnv no_tunables("GLIBC_TUNABLES", nullptr);
  const auto root = fresh_dir("si");
  std::ofstream(root / "s.jsonl") << si_line << "\n" << nacl_line << "\n";
  auto s = tiny_settings(root);
  s.structures = root / "s.jsonl";
  s.pseudo_dir = one_element_pseudo_dir(root, "Si");
  const auto sum = dataset::run_dataset(s, Comm::self());
  CHECK(sum.total == 2);
  CHECK(sum.failed == 1);  // NaCl
  const auto rec = json::parse(slurp(dataset::record_path(s.work_dir, "si-test")));
  INFO(rec.dump(1).substr(0, 3000));
  // "qe_only" is written only when the response code raises FeatureUnavailable, which it never does: every build
  // that has the dataset factory (and this test) has the native solver (RUNG_READERS_ONLY builds neither)
  REQUIRE(rec["status"] == "done");
  CHECK(rec["crystal_system"] == "cubic");
  CHECK(rec["directions"] == "x");
  CHECK(rec["k_scf"] == json::array({2, 2, 2}));
  // Si PBE gap 0.6 eV (indirect, converged); 12 Ry and a 2x2x2 grid land within a few tenths of it
  const double gap = rec["gap_eV"].get<double>();
  CHECK(gap > 0.2);
  CHECK(gap < 1.6);
  CHECK(rec["occupied_bands"] == 4);
  CHECK(rec["nbnd_optics"].get<int>() > 4);
  CHECK(rec["nbnd_nscf"].get<int>() >= rec["nbnd_optics"].get<int>());
  CHECK(rec["timings"]["scf_cpu_s"].get<double>() > 0);
  CHECK(rec["nscf_runs"].get<int>() >= 1);
  // no lite record yet: the band count is the free-electron estimate
  CHECK(rec["nscf_band_estimate"]["from"] == "free-electron estimate");
  CHECK(rec["nscf_band_estimate"]["headroom"] == s.nscf_band_headroom);
  CHECK(!fs::exists(s.work_dir / "qe" / "si-test" / "out"));  // large QE files removed
  CHECK(fs::exists(s.work_dir / "qe" / "si-test" / "nscf.out"));
  // the nscf diagonalization settings are in the record and in the input pw.x ran
  CHECK(rec["nscf_diagonalization"]["diago_david_ndim"] == 4);
  CHECK(rec["nscf_diagonalization"]["conv_thr_Ry"] == s.nscf_conv_thr_Ry);
  CHECK(slurp(s.work_dir / "qe" / "si-test" / "nscf.in").find("diago_david_ndim = 4") != std::string::npos);
  CHECK(slurp(s.work_dir / "qe" / "si-test" / "nscf.in").find("conv_thr = 1e-05") != std::string::npos);
  CHECK(slurp(s.work_dir / "qe" / "si-test" / "scf.in").find("conv_thr = 1e-09") != std::string::npos);
  {
    CHECK(rec["eps_imag_ipa"].size() == 2001);
    CHECK(rec["eps_imag_rpa"].size() == 2001);
    // measured 0.737397 (the same on every run here: pw.x and the solver are deterministic); asserted within 1e-3,
    // room for another machine's pw.x (other BLAS or rank count: eigenvalues ~1e-8 Ha apart, which moved the
    // probes' SC by ~1e-5 in tests/response/spectrum_reference.cpp), while an RPA without local fields gives 1
    // and another block moves it by a few 1e-2 (Si, yambo-tests run: 0.874 at 27 G, 0.824 at 59 G)
    CHECK(rec["sc_ipa_rpa"].get<double>() == Approx(0.737397).margin(1e-3));
    // the record names the QE files by their place in the work folder, not by this machine's path
    CHECK(rec["rpa_provenance"]["inputs"]["qe_save"] == "qe/si-test/out/rung.save");
    CHECK(rec["rpa_provenance"]["inputs"]["qe_xml"] == "qe/si-test/out/rung.save/data-file-schema.xml");
    // the factory's solver computes every fourth frequency unless told otherwise (doc/dataset.md)
    CHECK(rec["solver_options"]["solver_step_eV"] == dataset::factory_solver_step_eV);
    CHECK(rec["rpa_provenance"]["parameters"]["solver_frequencies"]["stride"] == 4);
    CHECK(rec["rpa_provenance"]["parameters"]["chi0_storage"] == "single precision");  // a label says how it was made
    CHECK(rec["rpa_provenance"]["parameters"]["oscillator_arithmetic"] == "single precision");  // the fast route
  }
  // a pseudopotential folder the user gave keeps its path (only rung's own table is named "share/pseudo");
  // the work folder, the structures and the output by their names, not by this machine's paths
  CHECK(rec["settings"]["pseudo_dir"] == s.pseudo_dir.string());
  CHECK(rec["settings"]["work_dir"] == "work");
  CHECK(rec["settings"]["structures"] == "s.jsonl");
  CHECK(rec["settings"]["out"] == "DATA.h5");
  const auto data = read_optimate_dataset(s.out);
  CHECK(data.materials.size() == 2);
  const auto text = dataset::dataset_stats(s.out);
  CHECK_THAT(text, Catch::Contains("elements (3): Cl 1 Na 1 Si 1"));

  // pw.x ran with the factory's malloc settings (GLIBC_TUNABLES is unset above), and the record says so
  CHECK(rec["pw_environment"]["GLIBC_TUNABLES"] == dataset::child_malloc_tunables);
  CHECK(rec["pw_environment"]["OMP_NUM_THREADS"] ==
        (std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "1"));
  {  // the lite tier on the same work dir: its own record, the IPA alone
    // the full tier kept its scf for the lite tier, which has no record yet: the density and XML, no wavefunctions
    REQUIRE(fs::exists(s.work_dir / "scf" / "si-test" / "rung.save" / "charge-density.dat"));
    for (const auto& e : fs::directory_iterator(s.work_dir / "scf" / "si-test" / "rung.save"))
      CHECK_FALSE(e.path().filename().string().starts_with("wfc"));
    auto l = s;
    l.tier = dataset::Tier::lite;
    l.nscf_kppa = 10;  // coarser than the full tier's 30
    dataset::run_dataset(l, Comm::self());
    const auto lrec = json::parse(slurp(dataset::record_path(s.work_dir, "si-test", dataset::Tier::lite)));
    CHECK(lrec["status"] == "done");
    CHECK(lrec["tier"] == "lite");
    CHECK(lrec["eps_imag_lite"].size() == 2001);
    CHECK_FALSE(lrec.contains("eps_imag_rpa"));
    CHECK(lrec["settings"]["nscf_kppa"] == 10.0);
    // the lite tier's pw.x runs go to a folder of its own, so the two farms never remove each other's files
    CHECK(lrec["ipa_provenance"]["inputs"]["qe_save"] == "qe/si-test.lite/out/rung.save");
    CHECK(fs::exists(s.work_dir / "qe" / "si-test" / "nscf.out"));
    // its nscf computed the bands the full tier's nscf needed plus the margin, not a free-electron estimate
    const int needed = rec["nbnd_optics"].get<int>();
    CHECK(lrec["nscf_band_estimate"]["from"] == "full record");
    CHECK(lrec["nscf_band_estimate"]["bands_in_window"] == needed);
    CHECK(lrec["nbnd_nscf"].get<int>() ==
          std::max(needed + dataset::other_tier_band_margin(needed), lrec["occupied_bands"].get<int>() + 4));
    CHECK(slurp(s.work_dir / "qe" / "si-test.lite" / "nscf.in")
              .find("nbnd = " + std::to_string(lrec["nbnd_nscf"].get<int>())) != std::string::npos);
    // the full tier kept its scf (density and XML, no wavefunctions); the lite tier's scf.in is the same text,
    // so it started its nscf from it, paid no scf, and removed the kept folder
    CHECK(lrec["scf_reused"]["from"] == "scf/si-test");
    CHECK(lrec["scf_reused"]["cost_where_it_ran"]["tier"] == "full");
    CHECK_FALSE(lrec["timings"].contains("scf_cpu_s"));
    CHECK_FALSE(fs::exists(s.work_dir / "scf" / "si-test"));
    // the same lite run with an scf of its own (the kept one is gone): the same spectrum. pw.x on one rank
    // is deterministic for the same input, so anything beyond float round-off would mean the nscf did not
    // start from the same density.
    fs::remove(dataset::record_path(s.work_dir, "si-test", dataset::Tier::lite));
    auto again = l;
    again.out = root / "DATA-again.h5";  // DATA.h5 holds the first lite spectrum: a run would resume from it
    dataset::run_dataset(again, Comm::self());
    const auto own = json::parse(slurp(dataset::record_path(s.work_dir, "si-test", dataset::Tier::lite)));
    CHECK_FALSE(own.contains("scf_reused"));
    CHECK(own["timings"]["scf_cpu_s"].get<double>() > 0);
    const auto a = lrec["eps_imag_lite"].get<std::vector<double>>(),
               b = own["eps_imag_lite"].get<std::vector<double>>();
    REQUIRE(a.size() == b.size());
    double worst = 0, peak = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      worst = std::max(worst, std::abs(a[i] - b[i]));
      peak = std::max(peak, std::abs(b[i]));
    }
    CHECK(peak > 0);
    CHECK(worst <= 1e-6 * peak);
    // the full tier's record is finished, so no run would read this scf: not kept
    CHECK_FALSE(fs::exists(s.work_dir / "scf" / "si-test"));
    // a kept folder left over from before (both tiers finished) is removed when a run starts; one being written
    // (".tmp.<pid>") is left alone
    fs::create_directories(s.work_dir / "scf" / "si-test" / "rung.save");
    fs::create_directories(s.work_dir / "scf" / "si-test.tmp.1");
    // ... unless the process that was writing it is gone (no process has pid 999999999)
    fs::create_directories(s.work_dir / "scf" / "si-test.tmp.999999999");
    dataset::run_dataset(again, Comm::self());
    CHECK_FALSE(fs::exists(s.work_dir / "scf" / "si-test"));
    CHECK(fs::exists(s.work_dir / "scf" / "si-test.tmp.1"));
    CHECK_FALSE(fs::exists(s.work_dir / "scf" / "si-test.tmp.999999999"));
    const auto both = read_optimate_dataset(s.out);
    const auto& si = both.materials[0].id == "si-test" ? both.materials[0] : both.materials[1];
    CHECK(si.eps_imag_ipa.size() == 2001);
    CHECK(si.eps_imag_lite.size() == 2001);
    CHECK_THAT(dataset::dataset_stats(s.out), Catch::Contains("SC(lite, full IPA): 1 materials"));
  }
}

TEST_CASE("the factory's commands run with its malloc settings and one OpenMP thread unless the environment says",
          "[unit][dataset]") {
  const auto root = fresh_dir("run-in-env");
  const auto shown = [&](const char* name) {
    // a child shell prints it: what the command's environment holds, not the calling shell's
    const auto r = dataset::run_in(root, std::string("sh -c 'printf %s \"$") + name + "\"'", root / "env.txt");
    REQUIRE(r.exit_code == 0);
    return slurp(root / "env.txt");
  };
  {
    const ScopedEnv unset("GLIBC_TUNABLES", nullptr);
    CHECK(shown("GLIBC_TUNABLES") == dataset::child_malloc_tunables);
    CHECK(dataset::child_glibc_tunables() == dataset::child_malloc_tunables);
  }
  {
    const ScopedEnv user("GLIBC_TUNABLES", "glibc.malloc.check=0");  // the user's own settings win
    CHECK(shown("GLIBC_TUNABLES") == "glibc.malloc.check=0");
    CHECK(dataset::child_glibc_tunables() == "glibc.malloc.check=0");
  }
  // OMP_NUM_THREADS both ways, whatever the caller's environment holds (tools/test.sh exports 1, which would
  // hide a factory that forced 1 or one that set nothing): unset -> the factory's 1; the user's 3 is kept
  {
    const ScopedEnv unset("OMP_NUM_THREADS", nullptr);
    CHECK(shown("OMP_NUM_THREADS") == "1");
  }
  {
    const ScopedEnv user("OMP_NUM_THREADS", "3");
    CHECK(shown("OMP_NUM_THREADS") == "3");
  }
}

TEST_CASE("metals are recorded as failed with the reason, not given a spectrum", "[cli][dataset][qe]") {
  // Fixed occupations would happily give a (wrong) spectrum for a metal with an even electron count; the
  // factory must refuse it from the KS band edges. With an odd count pw.x itself stops, and the record must
  // carry QE's error message rather than Open MPI's abort banner.
  RUNG_SKIP_UNLESS(std::system("command -v pw.x > /dev/null 2>&1") == 0, "pw.x not installed");
  const auto run = [](const std::string& id, const char* line, const std::string& element, double kppa) {
    const auto root = fresh_dir(id);
    std::ofstream(root / "s.jsonl") << line << "\n";
    auto s = tiny_settings(root);
    s.scf_kppa = s.nscf_kppa = kppa;
    s.structures = root / "s.jsonl";
    s.pseudo_dir = one_element_pseudo_dir(root, element);
    const auto sum = dataset::run_dataset(s, Comm::self());
    CHECK(sum.total == 1);
    CHECK(sum.failed == 1);
    return json::parse(slurp(dataset::record_path(s.work_dir, id)));
  };
  SECTION("hcp Mg: negative KS gap") {
    // a 2x2x1 grid (kppa 30) misses the band overlap (gap +0.46 eV there); the factory's 1500 does not
    const auto rec = run("mg-metal", mg_line, "Mg", 300);
    INFO(rec.dump(1).substr(0, 3000));
    CHECK(rec["status"] == "failed");
    CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("KS gap -") && Catch::Contains("metal"));
    CHECK(!rec.contains("eps_imag_ipa"));
    // the scf's own bands show the overlap (-1.58 eV): no nscf is paid for
    CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("on the scf k grid"));
    CHECK_FALSE(rec["timings"].contains("nscf_cpu_s"));
  }
  SECTION("bcc Na given as a 2-atom cell: the odd count of the primitive cell is what counts") {
    // (before, the count was taken on the input cell, and pw.x was left to stop on "smearing is needed")
    const auto rec = run("na-metal", na_line, "Na", 30);
    INFO(rec.dump(1).substr(0, 3000));
    CHECK(rec["status"] == "failed");
    CHECK_THAT(rec["reason"].get<std::string>(), Catch::Contains("odd number of valence electrons (1 in the 1-atom"));
  }
}

TEST_CASE("a pw.x failure is reported with QE's own error message, not Open MPI's abort banner", "[cli][dataset][qe]") {
  RUNG_SKIP_UNLESS(std::system("command -v pw.x > /dev/null 2>&1") == 0, "pw.x not installed");
  const auto root = fresh_dir("pw-error");
  // one Na atom with fixed occupations: pw.x stops in routine electrons ("smearing is needed")
  Structure na;
  na.id = "na";
  const double h = 2.115 * units::angstrom_bohr;
  na.lattice << -h, h, h, h, -h, h, h, h, -h;
  na.frac = {Eigen::Vector3d(0, 0, 0)};
  na.numbers = {11};
  const auto table = dataset::PseudoTable::load(one_element_pseudo_dir(root, "Na"));
  std::ofstream(root / "scf.in") << dataset::pw_input(na, table, dataset::PwRun{"scf", 12, {2, 2, 2}, 0, 1e-6});
  const auto r = dataset::run_in(root, "pw.x -in scf.in", root / "scf.out");
  REQUIRE(r.exit_code != 0);
  const auto reason = dataset::pw_failure_reason(root / "scf.out");
  CHECK_THAT(reason, Catch::StartsWith("Error in routine electrons") && Catch::Contains("smearing is needed") &&
                         !Catch::Contains("MPI_ABORT") && !Catch::Contains("%%%"));
  SECTION("without an error block, the last lines") {
    std::ofstream(root / "other.out") << "line 1\n\n  line 2\nline 3\n";
    CHECK(dataset::pw_failure_reason(root / "other.out", 2) == "line 2 | line 3");
  }
  SECTION("a crash: gfortran's signal line and the last line, not the backtrace's frames") {
    std::ofstream(root / "crash.out") << "     iteration #  1\n\nProgram received signal SIGSEGV: Segmentation fault - "
                                         "invalid memory reference.\n\nBacktrace for this error:\n#0  0x7f in ???\n"
                                         "#1  0x7f in ???\n#2  0x7f in ???\nSegmentation fault\n";
    CHECK(dataset::pw_failure_reason(root / "crash.out") ==
          "Program received signal SIGSEGV: Segmentation fault - invalid memory reference. | Segmentation fault");
  }
}

TEST_CASE("FactoryRequest: canonical keys, defaults once, JSON both ways, errors that name the key",
          "[unit][dataset]") {
  const dataset::FactoryRequest d;
  CHECK(d.tier == dataset::Tier::full);
  CHECK(d.scf_kppa_used() == dataset::full_protocol.scf_kppa);
  CHECK(d.nscf_kppa_used() == dataset::full_protocol.nscf_kppa);
  CHECK(d.window_eV == rung::paper::band_window_eV);
  CHECK(d.broadening_eV == rung::paper::broadening_eV);
  CHECK(d.scf_conv_thr_Ry == 1e-9);  // the cost cut's settings (doc/dataset.md, "Cost per material")
  CHECK(d.nscf_conv_thr_Ry == 1e-5);
  CHECK(d.nscf_band_headroom == 1.0);
  CHECK(!d.solver.solver_step_eV);  // the factory sets its own unless the options give one
  const auto keys = dataset::FactoryRequest::keys();
  CHECK(keys.front() == "tier");
  CHECK(std::count(keys.begin(), keys.end(), "solver_options") == 1);

  const auto lite = dataset::FactoryRequest::from_json(
      {{"tier", "lite"}, {"structures", "s.jsonl"}, {"out", "D.h5"}, {"ecutwfc_Ry", 30}, {"ids", {"a", "b"}},
       {"solver_options", {{"max_block", "30"}}}, {"max_atoms", 4}});
  CHECK(lite.tier == dataset::Tier::lite);
  CHECK(lite.scf_kppa_used() == dataset::lite_protocol.scf_kppa);  // the tier's k densities unless given
  CHECK(lite.nscf_kppa_used() == dataset::lite_protocol.nscf_kppa);
  CHECK(lite.ecutwfc_Ry == 30.0);
  CHECK(lite.only_ids == std::vector<std::string>{"a", "b"});
  CHECK(lite.solver.max_block == "30");
  // the factory's own solver default (bins per broadening) survives options that do not name it, and yields to
  // options that do; the solver's own default is unchanged
  CHECK(dataset::FactoryRequest{}.solver.points_per_eta == dataset::factory_points_per_eta);
  CHECK(lite.solver.points_per_eta == dataset::factory_points_per_eta);
  CHECK(dataset::FactoryRequest::from_json({{"solver_options", {{"points_per_eta", 30}}}}).solver.points_per_eta == 30);
  CHECK(response::SpectrumRequest{}.points_per_eta == 30);
  CHECK(lite.max_atoms == 4);
  CHECK(lite.structures == "s.jsonl");

  // what the records' "settings" hold reads back to the same request
  const json j = lite.to_json();
  CHECK(j["tier"] == "lite");
  CHECK(j["nscf_kppa"] == dataset::lite_protocol.nscf_kppa);
  CHECK(j["solver_options"]["max_block"] == "30");
  CHECK(dataset::FactoryRequest::from_json(j).to_json() == j);

  CHECK_THROWS_WITH(dataset::FactoryRequest::from_json({{"windw_eV", 10}}), Catch::Contains("\"windw_eV\""));
  CHECK_THROWS_WITH(dataset::FactoryRequest::from_json({{"tier", "medium"}}), Catch::Contains("\"tier\""));
  CHECK_THROWS_WITH(dataset::FactoryRequest::from_json({{"max_atoms", "six"}}), Catch::Contains("\"max_atoms\""));
  CHECK_THROWS_WITH(dataset::FactoryRequest::from_json({{"solver_options", {{"eta", 1}}}}), Catch::Contains("\"eta\""));
  auto bad = d;
  bad.window_eV = -1;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("\"window_eV\""));
  bad = d;
  bad.nscf_kppa = 0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("\"nscf_kppa\""));
  bad = d;
  bad.nscf_band_headroom = 0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("\"nscf_band_headroom\""));
  bad = d;
  bad.nscf_conv_thr_Ry = -1e-5;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("\"nscf_conv_thr_Ry\""));
  // the solver's own rule (its 0.04 eV step at most a third of the broadening) is checked before any pw.x run: a
  // 0.1 eV broadening was found only after each material's scf and nscf, and every material recorded failed
  bad = d;
  bad.broadening_eV = 0.1;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("solver_step"));
  bad.solver.solver_step_eV = 0.03;  // a step that fits the broadening
  CHECK_NOTHROW(bad.validate());
}

TEST_CASE("a pseudopotential table is checked against its files' headers", "[unit][dataset]") {
  // the shipped Si entry with a wrong z_valence, then the header of an ultrasoft file: both refused when the table
  // is loaded, naming the element, before any pw.x run
  const auto root = fresh_dir("pseudo-table-checks");
  const auto dir = one_element_pseudo_dir(root, "Si");
  auto t = json::parse(slurp(dir / "table.json"));
  const std::string file = t["elements"]["Si"]["file"].get<std::string>();
  t["elements"]["Si"]["z_valence"] = 3;
  std::ofstream(dir / "table.json", std::ios::trunc) << t.dump();
  CHECK_THROWS_WITH(dataset::PseudoTable::load(dir), Catch::Contains("element Si: z_valence 3 in the table, 4"));
  t["elements"]["Si"]["z_valence"] = 4;
  std::ofstream(dir / "table.json", std::ios::trunc) << t.dump();
  CHECK_NOTHROW(dataset::PseudoTable::load(dir));
  std::ofstream(dir / file, std::ios::trunc)
      << "<UPF version=\"2.0.1\">\n<PP_HEADER element=\"Si\" pseudo_type=\"US\" is_ultrasoft=\"T\" is_paw=\"F\" "
         "z_valence=\"4.0\" functional=\"PBE\" has_so=\"F\" relativistic=\"scalar\"/>\n</UPF>\n";
  CHECK_THROWS_WITH(dataset::PseudoTable::load(dir),
                    Catch::Contains("element Si") && Catch::Contains("norm-conserving"));
}

TEST_CASE("the factory's pw.x input reads back through the one pw.x reader", "[unit][dataset]") {
  const auto root = fresh_dir("pw-input-roundtrip");
  Structure nacl;
  nacl.id = "nacl";
  const double h = 2.82 * units::angstrom_bohr;
  nacl.lattice << 0, h, h, h, 0, h, h, h, 0;
  nacl.frac = {Eigen::Vector3d(0, 0, 0), Eigen::Vector3d(0.5, 0.5, 0.5)};
  nacl.numbers = {11, 17};
  // the shipped Na and Cl files (the table reads their headers); pw.x does not run
  fs::create_directories(root / "pseudo");
  const auto shipped = json::parse(slurp(test::source_dir() / "share" / "pseudo" / "table.json")).at("elements");
  json t{{"elements", json::object()}};
  for (const char* el : {"Na", "Cl"}) {
    const std::string file = shipped.at(el).at("file").get<std::string>();
    fs::copy_file(test::source_dir() / "share" / "pseudo" / file, root / "pseudo" / file);
    t["elements"][el] = shipped.at(el);
  }
  std::ofstream(root / "pseudo" / "table.json") << t.dump();
  const auto table = dataset::PseudoTable::load(root / "pseudo");
  const std::string text = dataset::pw_input(nacl, table, dataset::PwRun{"nscf", 40, {4, 4, 4}, 24, 1e-9, 0});
  const auto in = qe::parse_pw_input(text, "nscf.in");
  CHECK(qe::write_pw_input(in) == text);  // the writer's text is what the reader reads
  CHECK(in.namelist("control")->text("calculation") == "nscf");
  CHECK(in.namelist("system")->raw("nbnd") == "24");
  CHECK(in.namelist("electrons")->raw("diago_full_acc") == ".true.");
  std::ofstream(root / "nscf.in") << text;
  const Structure back = read_structure(root / "nscf.in", StructureFormat::pw_input);
  REQUIRE(back.size() == 2);
  CHECK(back.numbers == nacl.numbers);
  CHECK((back.lattice - nacl.lattice).norm() < 1e-9);  // 12 decimals in Bohr
  CHECK((back.frac[1] - nacl.frac[1]).norm() < 1e-9);
}

TEST_CASE("dataset compare: a variant's labels against the reference's, per material", "[unit][dataset]") {
  const auto root = fresh_dir("compare");
  const EnergyGrid grid = EnergyGrid::paper_default();
  const auto w = grid.values_eV();
  std::vector<float> ipa(w.size()), rpa(w.size()), rpa_more(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    ipa[i] = float(std::exp(-(w[i] - 5) * (w[i] - 5)));
    rpa[i] = float(0.8 * std::exp(-(w[i] - 6) * (w[i] - 6)));
    rpa_more[i] = float(1.1 * rpa[i]);  // 10 % larger everywhere: SC against rpa = 1 - 0.1
  }
  const auto material = [&](const std::string& id, const std::vector<float>& r) {
    DatasetMaterial m;
    m.id = id;
    m.structure.lattice = 5 * Eigen::Matrix3d::Identity();
    m.structure.frac = {Eigen::Vector3d(0, 0, 0)};
    m.structure.numbers = {14};
    m.eps_imag_ipa = ipa;
    m.eps_imag_rpa = r;
    m.sc_ipa_rpa = 0.5;
    m.provenance = json{{"status", "done"}, {"timings", {{"cpu_s", 12.0}}},
                        {"rpa_provenance", {{"parameters", {{"n_g", 59}}}}}}.dump();
    return m;
  };
  OptimateDataset ref, other;
  ref.materials = {material("a", rpa), material("b", rpa)};
  other.materials = {material("a", rpa_more)};
  write_optimate_dataset(root / "ref.h5", ref);
  write_optimate_dataset(root / "other.h5", other);
  const auto rows = dataset::compare_datasets(root / "ref.h5", root / "other.h5");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["id"] == "a");
  CHECK(rows[0]["status"] == "done");
  // 16-bit storage rounds each spectrum by <= 8e-6 of its range (doc/dataset.md): SC to 1e-4
  CHECK(rows[0]["sc_ipa_vs_reference"].get<double>() == Approx(1.0).margin(1e-4));
  CHECK(rows[0]["sc_rpa_vs_reference"].get<double>() == Approx(0.9).margin(1e-4));
  CHECK(rows[0]["n_g"] == 59);
  CHECK(rows[0]["cpu_s"] == 12.0);
  CHECK(rows[1]["id"] == "b");
  CHECK(rows[1]["status"] == "missing");
  CHECK(!rows[1].contains("sc_rpa_vs_reference"));
}
