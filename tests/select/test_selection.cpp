// Selection records with a synthetic predictor (no model file needed), the YAMBO launch inputs and
// the pw.x input paths `rung hook` relies on.
#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "response/spectrum_request.hpp"
#include "select/launch.hpp"
#include "select/native_spectrum.hpp"
#include "select/run_selection.hpp"
#include "select/pw_input_paths.hpp"
#include "select/selection.hpp"
#include "select/yambo_launch.hpp"
#include "support/paths.hpp"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <csignal>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace rung::select;
namespace fs = std::filesystem;

namespace {

// Returns Lorentzian-shaped spectra whose RPA peak is scaled by `rpa_scale`: SC(IPA,RPA) is then
// known in closed form for the test (1 - |1 - s| for a pure scaling, IPA as the reference).
class SyntheticPredictor : public Predictor {
public:
  SyntheticPredictor(double rpa_scale, double spread, bool untrained) : scale_(rpa_scale), spread_(spread) {
    info_.kind = "synthetic";
    info_.path = "synthetic";
    info_.untrained = untrained;
  }
  std::vector<Prediction> predict(const std::vector<rung::Structure>& s) override {
    std::vector<Prediction> out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      Prediction p;
      for (int k = 0; k < 2001; ++k) {
        const double e = 0.01 * k;
        p.energy_eV.push_back(e);
        const double v = 10.0 / (1.0 + (e - 4) * (e - 4));
        p.ipa.push_back(v);
        p.rpa.push_back(scale_ * v);
      }
      p.sc = sc_ipa_rpa(p.energy_eV, p.ipa, p.rpa);
      p.sc_spread = spread_;
      out.push_back(p);
    }
    return out;
  }
  const ModelSetInfo& info() const override { return info_; }

private:
  double scale_, spread_;
  ModelSetInfo info_;
};

SelectInput silicon_input() {
  SelectInput in;
  in.kind = "memory";
  const double a = 10.26;
  in.structure.lattice << -a / 2, 0, a / 2, 0, a / 2, a / 2, -a / 2, a / 2, 0;
  in.structure.frac = {{0, 0, 0}, {0.25, 0.25, 0.25}};
  in.structure.numbers = {14, 14};
  in.structure.id = "Si";
  return in;
}

std::vector<Eigen::Matrix3d> cube_rotations() {
  std::vector<Eigen::Matrix3d> out;
  const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (const auto& p : perms)
    for (int signs = 0; signs < 8; ++signs) {
      Eigen::Matrix3d r = Eigen::Matrix3d::Zero();
      for (int i = 0; i < 3; ++i) r(i, p[i]) = (signs >> i & 1) ? -1 : 1;
      out.push_back(r);
    }
  return out;  // O_h: 48 operations
}

}  // namespace

TEST_CASE("selection: SC of predicted spectra has the labels' convention (IPA as the reference)", "[unit][select]") {
  // ipa 1,1,1 and rpa 1,2,1 on a unit grid: trapezoid |ipa - rpa| = 1, |ipa| = 2, |rpa| = 3. The data set's
  // label normalises by the IPA: SC = 1 - 1/2 (by the RPA it would be 1 - 1/3).
  CHECK(sc_ipa_rpa({0, 1, 2}, {1, 1, 1}, {1, 2, 1}) == Approx(0.5).epsilon(1e-12));
}

TEST_CASE("selection: model_set.json chooses a model set's SC estimator (mean with the spectra's SC, or sc.h5 alone)",
          "[reference][select][shipped]") {
  RUNG_SKIP_UNLESS(have_model_predictor(), "rung was built without LibTorch");
  namespace fs = std::filesystem;
  const auto shipped = rung::test::source_dir() / "share" / "models";
  const auto dir = rung::test::binary_dir() / "model_set_choice";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"ipa.h5", "rpa.h5", "sc.h5"}) fs::create_symlink(shipped / f, dir / f);
  const auto in = silicon_input();
  const auto direct = load_model_predictor(dir / "sc.h5")->predict({in.structure})[0];
  REQUIRE(direct.ipa.empty());
  CHECK(direct.sc <= 1.0);
  const auto write = [&](const std::string& text) {
    std::ofstream(dir / "model_set.json") << text;
  };

  // without the file: the mean of the regression (at most 1) and the SC of the predicted spectra
  auto set = load_model_predictor(dir)->predict({in.structure})[0];
  REQUIRE(set.ipa.size() == 2001);
  const double from_spectra = sc_ipa_rpa(set.energy_eV, set.ipa, set.rpa);
  CHECK(set.sc == Approx(0.5 * (std::min(1.0, direct.sc) + from_spectra)).margin(1e-12).epsilon(0));
  CHECK(set.sc <= 1.0);
  CHECK(load_model_predictor(dir)->info().metadata.at("sc_estimator") ==
        "mean of sc.h5 and SC(predicted ipa.h5, rpa.h5)");
  // "direct": the regression alone; the spectra are still predicted
  write(R"({"format": "rung-model-set", "sc_estimator": "direct"})");
  set = load_model_predictor(dir)->predict({in.structure})[0];
  CHECK(set.ipa.size() == 2001);
  CHECK(set.sc == Approx(std::min(1.0, direct.sc)).margin(1e-12).epsilon(0));
  CHECK(load_model_predictor(dir)->info().metadata.at("sc_estimator") == "sc.h5");
  // a value it does not know, or a file of another kind, is refused with the file's name
  write(R"({"format": "rung-model-set", "sc_estimator": "median"})");
  CHECK_THROWS_WITH(load_model_predictor(dir), Catch::Contains("model_set.json") && Catch::Contains("median"));
  write(R"({"sc_estimator": "direct"})");
  CHECK_THROWS_WITH(load_model_predictor(dir), Catch::Contains("not a rung model-set file"));
  // its version: 1 (or none) is read, a newer one or a value of another kind refused
  write(R"({"format": "rung-model-set", "format_version": 1, "sc_estimator": "direct"})");
  CHECK(load_model_predictor(dir)->info().metadata.at("sc_estimator") == "sc.h5");
  write(R"({"format": "rung-model-set", "format_version": 2, "sc_estimator": "direct"})");
  CHECK_THROWS_WITH(load_model_predictor(dir), Catch::Contains("model_set.json") && Catch::Contains("newer"));
  write(R"({"format": "rung-model-set", "format_version": 4294967297, "sc_estimator": "direct"})");  // (2^32 + 1)
  CHECK_THROWS_WITH(load_model_predictor(dir), Catch::Contains("newer"));
  write(R"({"format": "rung-model-set", "format_version": "1", "sc_estimator": "direct"})");
  CHECK_THROWS_WITH(load_model_predictor(dir), Catch::Contains("format_version"));

  // the shipped set: the estimator chosen on the validation materials (doc/models.md), its SC at most 1
  const auto ship = load_model_predictor(shipped);
  const auto s = ship->predict({in.structure})[0];
  CHECK(ship->info().metadata.at("sc_estimator") == "sc.h5");
  CHECK(s.sc == Approx(std::min(1.0, direct.sc)).margin(1e-12).epsilon(0));
  CHECK(s.sc <= 1.0);
  fs::remove_all(dir);
}

TEST_CASE("selection: SC from the synthetic predictor drives the decision", "[unit][select][selection]") {
  const auto in = silicon_input();
  PolicyOptions policy;
  SizeOptions size;
  // RPA = 0.95 IPA: SC = 1 - 0.05 = 0.95 >= 0.9 -> IPA sufficient.
  SyntheticPredictor close(0.95, 0.01, false);
  auto r = decide_one(in, close.predict({in.structure})[0], close.info(), policy, size, nullptr);
  CHECK(r.prediction.sc == Approx(0.95).epsilon(1e-9));
  CHECK(r.decision == Decision::ipa_sufficient);
  CHECK(r.record["decision"] == "ipa-sufficient");
  CHECK(r.record["rpa_cost_estimate"]["cpu_seconds"].is_null());
  CHECK_FALSE(r.record.contains("warning"));
  // RPA = 0.7 IPA: SC = 0.7 -> RPA needed.
  SyntheticPredictor far(0.7, 0.01, true);
  r = decide_one(in, far.predict({in.structure})[0], far.info(), policy, size, nullptr);
  CHECK(r.decision == Decision::rpa_needed);
  CHECK(r.record["model"]["untrained"] == true);
  CHECK(r.record["warning"].get<std::string>().find("untrained") != std::string::npos);
  // Same SC with a large spread -> uncertain.
  SyntheticPredictor unsure(0.95, 0.2, false);
  CHECK(decide_one(in, unsure.predict({in.structure})[0], unsure.info(), policy, size, nullptr).decision ==
        Decision::uncertain);
}

TEST_CASE("selection: the record carries inputs, policy and a cost estimate", "[unit][select][selection]") {
  const auto in = silicon_input();
  std::vector<CostPoint> pts{{RpaSize{64, 4, 12, 9, 2001, "m"}, 3.0, "a"}, {RpaSize{512, 4, 12, 113, 2001, "m"}, 160.0, "b"}};
  const auto cost = CostModel::fit(pts, "test");
  SyntheticPredictor p(0.8, 0.01, false);
  const auto r = decide_one(in, p.predict({in.structure})[0], p.info(), PolicyOptions{0.95, 1, 0.1}, SizeOptions{}, &cost,
                            true);
  const auto& j = r.record;
  CHECK(j["input"]["formula"] == "Si");
  CHECK(j["input"]["natoms"] == 2);
  CHECK(j["policy"]["threshold"] == 0.95);
  CHECK(j["rpa_cost_estimate"]["system_size"]["nk"] == 1000);  // the 10x10x10 grid kppa 1500 gives Si
  REQUIRE(r.cost_cpu_seconds);
  CHECK(*r.cost_cpu_seconds > 0);
  CHECK(j["rpa_cost_estimate"]["cpu_seconds"].get<double>() == Approx(*r.cost_cpu_seconds));
  CHECK(j["prediction"]["rpa_im_eps"].size() == 2001);
  CHECK(j.contains("rung_version"));
  CHECK(j["launch"]["status"] == "not requested");
}

TEST_CASE("selection: launching needs a ground state", "[unit][select][launch]") {
  const auto in = silicon_input();
  LaunchOptions lo;
  lo.mode = LaunchMode::native;
  const auto j = launch_rpa(in, Decision::rpa_needed, lo);
  CHECK(j["status"] == "skipped");
  CHECK(launch_rpa(in, Decision::ipa_sufficient, lo)["status"] == "not needed");
  CHECK(parse_launch_mode("yambo") == LaunchMode::yambo);
  CHECK_THROWS_AS(parse_launch_mode("vasp"), rung::Error);
}

TEST_CASE("yambo: field directions from the point group", "[unit][select][yambo]") {
  CHECK(field_directions(cube_rotations()).size() == 1);
  CHECK(field_directions({Eigen::Matrix3d::Identity()}).size() == 3);
  // C4 about z: x and y equivalent, z distinct.
  std::vector<Eigen::Matrix3d> c4;
  Eigen::Matrix3d r;
  r << 0, -1, 0, 1, 0, 0, 0, 0, 1;
  Eigen::Matrix3d m = Eigen::Matrix3d::Identity();
  for (int i = 0; i < 4; ++i, m = r * m) c4.push_back(m);
  const auto d = field_directions(c4);
  REQUIRE(d.size() == 2);
  CHECK(d[1] == std::array<int, 3>{0, 0, 1});
}

TEST_CASE("yambo: the input has every variable of a real YAMBO 5.2.4 RPA input", "[reference][select][yambo]") {
  const auto ref_file = rung::test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_sp" / "rpa_ng27_x.in";
  RUNG_REQUIRE_SHARED(ref_file);
  YamboOptions o;
  o.block_cutoff_Ry = 3.0;
  const std::string ours = yambo_rpa_input(o, 16, {1, 0, 0});
  std::ifstream in(ref_file);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string key = line.substr(0, line.find_first_of("= #"));
    if (line.rfind("% ", 0) == 0) {  // "% EnRngeXd": a block; its name is the key
      key = line.substr(2);
      key = key.substr(0, key.find_first_of(" #"));
    }
    if (key.empty() || key == "%" || key == "FFTGvecs") continue;  // FFTGvecs: YAMBO's default (all) on purpose
    if (key.find_first_not_of("0123456789.| ") == std::string::npos) continue;  // value rows of % blocks
    INFO(key);
    CHECK(ours.find(key) != std::string::npos);
    ++n;
  }
  CHECK(n == 16);  // 10 variables and 6 blocks
  // The values rung chooses, in YAMBO's notation.
  CHECK(ours.find("Chimod= \"HARTREE\"") != std::string::npos);
  CHECK(ours.find("NGsBlkXd= 3                Ry") != std::string::npos);
  CHECK(ours.find("  1 | 16 |") != std::string::npos);
  CHECK(ours.find("  0.00000 | 20.00000 |    eV") != std::string::npos);
  CHECK(ours.find(" 0.300000 | 0.300000 |    eV") != std::string::npos);
  CHECK(ours.find("ETStpsXd= 2001") != std::string::npos);
  CHECK(ours.find(" 1 | 0 | 0 |") != std::string::npos);
}

TEST_CASE("yambo: plan for a real QE save (inputs, script, commands)", "[reference][select][yambo]") {
  const auto save_dir = rung::test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto save = rung::qe::Save::read(save_dir);
  const auto out = fs::path(rung::test::binary_dir()) / "test_select_tmp" / "yambo_plan";
  fs::remove_all(out);
  const auto plan = write_yambo_plan(save, out, YamboOptions{});
  REQUIRE(plan.jobs.size() == 1);  // cubic Si: one direction
  CHECK(fs::exists(plan.jobs[0].input));
  CHECK(fs::exists(plan.script));
  std::ifstream f(plan.jobs[0].input);
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK(ss.str().find("  1 | 16 |") != std::string::npos);  // all 16 bands of the save
  // a fixed block goes to YAMBO as the G count of rung's own block for the cut-off: YAMBO reads a Ry value as an
  // integer, so 4.5 Ry would be its 4-Ry block (51 G) where rung's is 59 (the shells of Si at a = 10.26 Bohr)
  CHECK(plan.fixed_block_g == 51);  // 4 Ry, the default: up to the (311) shell at 4.125 Ry
  CHECK(ss.str().find("NGsBlkXd= 51 ") != std::string::npos);
  YamboOptions half;
  half.block_cutoff_Ry = 4.5;
  const auto hp = write_yambo_plan(save, out, half);
  CHECK(hp.fixed_block_g == 59);
  std::ifstream hf(hp.jobs[0].input);
  std::stringstream hs;
  hs << hf.rdbuf();
  CHECK(hs.str().find("NGsBlkXd= 59                RL") != std::string::npos);
  std::ifstream hscript(hp.script);
  std::stringstream hss;
  hss << hscript.rdbuf();
  CHECK(hss.str().find("echo 59 > rung_converged_block") != std::string::npos);
  REQUIRE(plan.commands.size() == 3);
  CHECK(plan.commands[0].find("p2y") != std::string::npos);
  CHECK(plan.commands[2].find("yambo -F") != std::string::npos);
  // a converging launch's record names the script alone, which does the setup too (p2y is run once)
  YamboOptions ladder;
  ladder.blocks_g = {59, 169};
  const auto lp = write_yambo_plan(save, out, ladder);
  REQUIRE(lp.commands.size() == 1);
  CHECK(lp.commands[0].find("sh run_yambo.sh") != std::string::npos);
  YamboOptions too_many;
  too_many.band_last = 99;
  CHECK_THROWS_AS(write_yambo_plan(save, out, too_many), rung::Error);
}

namespace {
// PATH with `dir` in front for the scope (stub p2y and yambo), restored after it.
struct PathFront {
  std::string old;
  explicit PathFront(const fs::path& dir) : old(std::getenv("PATH") ? std::getenv("PATH") : "") {
    ::setenv("PATH", (dir.string() + ":" + old).c_str(), 1);
  }
  ~PathFront() { ::setenv("PATH", old.c_str(), 1); }
};
void write_stub(const fs::path& file, const std::string& body) {
  std::ofstream(file) << "#!/bin/sh\n" << body;
  fs::permissions(file, fs::perms::owner_all, fs::perm_options::add);
}
}  // namespace

// YAMBO's usual way leaves a SAVE (and p2y's logs) inside prefix.save. Such a save is read as the QE save it is, and
// the launch's p2y runs where that SAVE is not linked: through a link, p2y and the yambo setup would write into the
// user's folder. A YAMBO SAVE given as the input runs no p2y: its ns.* files are linked into a SAVE of the work
// folder, where yambo writes its own databases. Stub p2y and yambo record what they found.
TEST_CASE("yambo: the user's save is never written to (a SAVE inside a QE save, a YAMBO SAVE as input)",
          "[reference][select][yambo]") {
  const auto tiny = rung::test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto root = fs::path(rung::test::binary_dir()) / "test_select_tmp" / "yambo_user_save";
  fs::remove_all(root);
  fs::create_directories(root / "bin");
  const auto user = root / "si.save";
  fs::copy(tiny, user, fs::copy_options::recursive);
  fs::create_directories(user / "SAVE");
  std::ofstream(user / "SAVE" / "ns.db1") << "an earlier p2y's database\n";
  std::ofstream(user / "l_p2y") << "an earlier p2y's log\n";
  const auto in = read_select_inputs(user);
  REQUIRE(in.size() == 1);
  CHECK(in[0].kind == "qe-save");  // not the YAMBO SAVE inside it
  {
    // the spectra of the decision (the probe, --launch native) come from the same QE save, not from the SAVE inside
    // it (here a text file that no NetCDF reader takes: the solver read it before the rule was one)
    rung::response::SpectrumRequest ipa;
    ipa.steps = 201;
    const auto set = compute_native_spectrum(*in[0].save, ipa, rung::Comm::self());
    CHECK(set.provenance["system"]["n_k_irreducible"].get<int>() == static_cast<int>(in[0].save->k_cart.size()));
  }
  write_stub(root / "bin" / "p2y",
             "echo p2y >> ../../p2y_calls\n[ -e SAVE ] && echo linked > ../../p2y_saw_save\n"
             "[ -e l_p2y ] && echo linked > ../../p2y_saw_log\nmkdir SAVE && echo p2y > SAVE/ns.db1\n"
             "env | grep -E '^(OMPI|PMIX)_' > ../../p2y_mpi_env\nexit 0\n");
  write_stub(root / "bin" / "yambo", "touch SAVE/ndb.gops\nexit 0\n");
  const PathFront path(root / "bin");
  const auto plan = write_yambo_plan(*in[0].save, root / "out" / "w", YamboOptions{});
  {
    // as on a rank of `mpirun rung select --batch ... --launch yambo`: p2y and yambo (MPI builds) must not see the
    // launcher's variables, or they try to join the rank's job
    ::setenv("OMPI_COMM_WORLD_SIZE", "4", 1), ::setenv("PMIX_RANK", "0", 1);
    const bool ran = run_yambo_plan(plan);
    ::unsetenv("OMPI_COMM_WORLD_SIZE"), ::unsetenv("PMIX_RANK");
    REQUIRE(ran);
  }
  std::ifstream mpi_env(root / "out" / "p2y_mpi_env");
  REQUIRE(mpi_env);
  CHECK(std::string(std::istreambuf_iterator<char>(mpi_env), {}).empty());
  CHECK(fs::exists(root / "out" / "p2y_calls"));
  CHECK_FALSE(fs::exists(root / "out" / "p2y_saw_save"));
  CHECK_FALSE(fs::exists(root / "out" / "p2y_saw_log"));
  CHECK(fs::exists(plan.workdir / "SAVE" / "ndb.gops"));
  CHECK_FALSE(fs::exists(user / "SAVE" / "ndb.gops"));
  std::ifstream kept(user / "SAVE" / "ns.db1");
  std::string line;
  std::getline(kept, line);
  CHECK(line == "an earlier p2y's database");

  const auto ysave = rung::test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_sp" / "SAVE";
  RUNG_REQUIRE_SHARED(ysave / "ns.db1");
  const auto yin = read_select_inputs(ysave);
  REQUIRE(yin.size() == 1);
  CHECK(yin[0].kind == "yambo-save");
  fs::remove(root / "out" / "p2y_calls");
  const auto yplan = write_yambo_plan(*yin[0].save, root / "out" / "y", YamboOptions{});
  CHECK_FALSE(yplan.runs_p2y);
  REQUIRE(run_yambo_plan(yplan));
  CHECK_FALSE(fs::exists(root / "out" / "p2y_calls"));
  CHECK(fs::is_symlink(yplan.workdir / "SAVE" / "ns.db1"));
  CHECK(fs::exists(yplan.workdir / "SAVE" / "ndb.gops"));
  CHECK_FALSE(fs::exists(ysave / "ndb.gops"));
}

// The block ladder compares blocks with rung: a script that cannot find it stops before p2y and YAMBO's set-up run
// for nothing (stub p2y records whether it ran).
TEST_CASE("yambo: a ladder without rung stops before p2y", "[reference][select][yambo]") {
  const auto tiny = rung::test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto root = fs::path(rung::test::binary_dir()) / "test_select_tmp" / "yambo_no_rung";
  fs::remove_all(root);
  fs::create_directories(root / "bin");
  write_stub(root / "bin" / "p2y", "echo p2y >> ../../p2y_calls\nmkdir SAVE\n");
  write_stub(root / "bin" / "yambo", "exit 0\n");
  const PathFront path(root / "bin");
  const char* old_rung = std::getenv("RUNG");
  const std::string kept = old_rung ? old_rung : "";
  ::unsetenv("RUNG");
  YamboOptions o;
  o.blocks_g = {51, 137};
  o.rung_executable = (root / "no-such-rung").string();
  const auto plan = write_yambo_plan(rung::qe::Save::read(tiny), root / "out" / "w", o);
  CHECK_THROWS_AS(run_yambo_plan(plan), rung::Error);
  if (old_rung) ::setenv("RUNG", kept.c_str(), 1);
  CHECK_FALSE(fs::exists(root / "out" / "p2y_calls"));
}

TEST_CASE("hook: outdir and prefix from a pw.x input", "[unit][select][hook]") {
  const std::string text =
      " &CONTROL\n    calculation = 'nscf'\n    Prefix=\"si\" , OUTDIR = './tmp/'  ! scratch\n"
      "    pseudo_dir = '/usr/share/espresso/pseudo'\n /\n &SYSTEM\n  prefix = 'wrong'\n /\n";
  const auto p = pw_paths_from_text(text, "nscf.in", "/work/run");
  CHECK(p.prefix == "si");
  CHECK(p.outdir == "./tmp/");
  CHECK(p.save_dir == fs::path("/work/run/tmp/si.save"));
  const auto d = pw_paths_from_text("&control\n calculation='scf'\n/\n", "x.in", "/w");
  CHECK(d.prefix == "pwscf");
  const auto abs = pw_paths_from_text("&control\n outdir='/scratch/me'\n prefix='gaas'\n/\n", "x.in", "/w");
  CHECK(abs.save_dir == fs::path("/scratch/me/gaas.save"));
  CHECK_THROWS_AS(pw_paths_from_text("&system\n ibrav=2\n/\n", "x.in", "/w"), rung::Error);
  CHECK(pw_input_argument({"pw.x", "-nk", "2", "-in", "nscf.in"}) == "nscf.in");
  CHECK(pw_input_argument({"mpirun", "-np", "2", "pw.x", "-inp", "a.in"}) == "a.in");
  CHECK(pw_input_argument({"pw.x"}).empty());
}

TEST_CASE("selection: inputs from a QE save and from a missing path", "[reference][select][selection]") {
  try {
    read_select_inputs("/nonexistent/si.save");
    FAIL("missing input accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
  }
  const auto save_dir = rung::test::qe_save("si_tiny", "si");
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const auto in = read_select_inputs(save_dir);
  REQUIRE(in.size() == 1);
  CHECK(in[0].kind == "qe-save");
  REQUIRE(in[0].save);
  const auto size = estimate_size(*in[0].save, SizeOptions{});
  CHECK(size.nk == 64);         // 4x4x4
  CHECK(size.n_valence == 4);
  CHECK(size.n_conduction == 4);  // 8 bands
  // the block both launches can reach: the 300-G cap lies beyond the 12-Ry wavefunction sphere (169 G on Si at
  // a = 10.26 Bohr), where the native ladder 51 -> 137 -> 169 ends
  CHECK(size.n_g == 169);
  // its 8 bands stop 3.4 eV above the valence-band top at some k (min over k of e_8 - VBM in its XML): the probe
  // and a launch would run with the 0-20 eV window cut there, and their records say so
  const auto window = band_window_eV(*in[0].save);
  REQUIRE(window);
  CHECK(*window == Approx(3.38).margin(0.05));
  CHECK(band_window_warning(*in[0].save).find("3.4 eV above the valence-band top") != std::string::npos);
}

TEST_CASE("selection: a decision-log append that fails part-way leaves the log as it was", "[unit][select][launch]") {
  // a file-size limit stands for a full disk: the first write(2) of the record is cut short at the limit, the next
  // one fails (EFBIG); the log must not keep the partial record, which the next append would follow on its line
  const auto log =
      std::filesystem::temp_directory_path() / ("rung_short_write_log_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(log);
  append_decision_log(log.string(), {nlohmann::json{{"first", true}}});
  const auto before = std::filesystem::file_size(log);
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // (else the process is killed at the limit)
  rlimit small = old;
  small.rlim_cur = before + 100;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error;
  try {
    append_decision_log(log.string(), {nlohmann::json{{"second", std::string(1000, 'x')}}});
  } catch (const rung::Error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK_THAT(error, Catch::Contains(log.string()) && Catch::Contains("cannot append to the decision log"));
  CHECK(std::filesystem::file_size(log) == before);
  append_decision_log(log.string(), {nlohmann::json{{"third", true}}});
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  CHECK(lines == std::vector<std::string>{"{\"first\":true}", "{\"third\":true}"});
  std::filesystem::remove(log);
}

TEST_CASE("selection: processes appending to one decision log at once lose no line", "[unit][select][launch]") {
  // four writers (threads, each opening the log itself as separate processes would) append 50 records each; the
  // log is appended to under a lock, never rewritten, so all 200 lines are there, each a whole record
  const auto log =
      std::filesystem::temp_directory_path() / ("rung_concurrent_log_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(log);
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i)
        append_decision_log(log.string(), {nlohmann::json{{"writer", w}, {"i", i}, {"pad", std::string(500, 'x')}}});
    });
  for (auto& t : writers) t.join();
  std::ifstream in(log);
  std::set<std::pair<int, int>> seen;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);  // throws on a cut or interleaved line
    seen.insert({j.at("writer").get<int>(), j.at("i").get<int>()});
  }
  CHECK(seen.size() == 200);
  // a log whose last line was cut (a writer killed mid-line) gets a newline before the next record
  { std::ofstream(log, std::ios::app) << "{\"cut\": "; }
  append_decision_log(log.string(), {nlohmann::json{{"after", "cut"}}});
  std::ifstream again(log);
  std::string line, last;
  while (std::getline(again, line)) last = line;
  CHECK(last == "{\"after\":\"cut\"}");
  std::filesystem::remove(log);
}

// The test above cannot see a missing lock: in one process each O_APPEND write(2) of a whole record lands whole
// anyway. This one holds the lock itself: append_decision_log takes an exclusive flock on the log file it opened
// (select_request.cpp), and flock locks belong to open file descriptions, so this test's own open() of the same
// file conflicts with the writer's even inside one process. While the test holds it, a writer must wait and
// append nothing; once it is released the record arrives.
TEST_CASE("selection: a decision-log writer waits for the lock on the log", "[unit][select][launch]") {
  const auto log =
      std::filesystem::temp_directory_path() / ("rung_locked_log_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(log);
  const int fd = ::open(log.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  std::atomic<bool> finished{false};
  std::string error;  // written by the writer, read after the join
  std::thread writer([&] {
    try {
      append_decision_log(log.string(), {nlohmann::json{{"locked", true}}});
    } catch (const std::exception& e) {
      error = e.what();
    }
    finished = true;
  });
  // Wait until the kernel lists the writer as blocked on this file's lock (/proc/locks marks a waiter "->"), so
  // the checks below see a writer that is really waiting, not one that has not started yet.
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  bool seen_waiting = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!seen_waiting && !finished.load() && std::chrono::steady_clock::now() < give_up) {
    std::ifstream locks("/proc/locks");
    if (!locks) break;
    for (std::string row; std::getline(locks, row);)
      if (row.find("->") != std::string::npos && row.find("FLOCK") != std::string::npos &&
          row.find(inode) != std::string::npos)
        seen_waiting = true;
    if (!seen_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!seen_waiting && !finished.load()) {
    WARN("/proc/locks shows no waiter: falling back to a fixed 300 ms wait");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const bool finished_while_locked = finished.load();
  std::error_code ec;
  const auto size_while_locked = std::filesystem::file_size(log, ec);
  ::flock(fd, LOCK_UN);
  writer.join();
  ::close(fd);
  CHECK(error.empty());
  CHECK_FALSE(finished_while_locked);  // it waited for the lock ...
  CHECK(ec.value() == 0);
  CHECK(size_while_locked == 0);  // ... and wrote nothing meanwhile
  CHECK(finished.load());
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  CHECK(line == "{\"locked\":true}");  // the record arrived once the lock was released
  std::filesystem::remove(log);
}
