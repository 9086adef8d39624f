// The evidence of a decision: the split-conformal half-width, the probe correction (its fit and its
// cap at SC = 1), the policy at the edges of an interval, the probe's SC read from a label's G-block
// history, the calibration file, and the probe itself on the YAMBO 5.2.4 Si case.
// The model interval of `rung calibrate` from validation and cross-validation residuals.
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "select/calibration_fit.hpp"
#include "select/evidence.hpp"
#include "select/native_spectrum.hpp"
#include "select/policy.hpp"
#include "select/predictor.hpp"
#include "support/paths.hpp"

#include <cmath>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>

using namespace rung::select;
namespace fs = std::filesystem;

TEST_CASE("evidence: split-conformal half-width by hand", "[unit][select][evidence]") {
  // 9 residuals, coverage 0.9: rank ceil(10 * 0.9) = 9, the largest |r|
  const std::vector<double> r9{0.01, -0.03, 0.02, 0.005, -0.001, 0.004, 0.015, -0.012, 0.007};
  CHECK(conformal_half_width(r9, 0.9) == 0.03);
  // coverage 0.8: rank ceil(10 * 0.8) = 8 -> sorted |r| 0.001 0.004 0.005 0.007 0.01 0.012 0.015 0.02 0.03 -> 0.02
  CHECK(conformal_half_width(r9, 0.8) == 0.02);
  // coverage 0.5: rank 5 -> 0.01
  CHECK(conformal_half_width(r9, 0.5) == 0.01);
  // 8 residuals cannot give 90 %: rank ceil(9 * 0.9) = 9 > 8
  CHECK(std::isinf(conformal_half_width({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, 0.9)));
  // (n + 1) c an integer: 74 residuals at 0.68 take the 51st smallest, although 75 x 0.68 is 51.00000000000001 in
  // floating point
  std::vector<double> r74;
  for (int i = 1; i <= 74; ++i) r74.push_back(0.001 * i);
  CHECK(conformal_half_width(r74, 0.68) == 0.001 * 51);
  CHECK_THROWS_AS(conformal_half_width(r9, 1.0), rung::Error);
}

TEST_CASE("evidence: the probe correction's fit and its cap at SC = 1", "[unit][select][evidence]") {
  // exact data on 1 - SC = 0.01 + 0.9 (1 - SC_probe): the fit recovers it
  std::vector<double> x{0.95, 0.9, 0.8, 0.7, 0.6}, y;
  for (double s : x) y.push_back(1 - (0.01 + 0.9 * (1 - s)));
  const auto c = fit_probe_correction(x, y, 59);
  CHECK(c.alpha == Approx(0.01).margin(1e-12));
  CHECK(c.beta == Approx(0.9).margin(1e-12));
  CHECK(c.n_fit == 5);
  CHECK(c.predict(0.8) == Approx(0.81));  // 1 - (0.01 + 0.9 * 0.2)
  // data whose least-squares intercept is negative: (d, e) = (0.1, 0.05), (0.2, 0.15), (0.3, 0.25) gives
  // e = -0.05 + d; the constrained fit through the origin: beta = sum(d e) / sum(d d) = 0.11 / 0.14
  const auto k = fit_probe_correction({0.9, 0.8, 0.7}, {0.95, 0.85, 0.75}, 59);
  CHECK(k.alpha == 0.0);
  CHECK(k.beta == Approx(0.11 / 0.14).epsilon(1e-12));
  // SC_probe = 1 then predicts SC = 1 - alpha <= 1 whatever the data
  CHECK(k.predict(1.0) == 1.0);
  CHECK(c.predict(1.0) == Approx(0.99));
  CHECK_THROWS_AS(fit_probe_correction({0.9, 0.8}, {0.9, 0.8}, 59), rung::Error);  // too few labels
  // data whose least-squares slope is negative: (d, e) = (0.1, 0.3), (0.2, 0.2), (0.3, 0.1) gives e = 0.4 - d. On
  // the boundary alpha = 0 the best beta is 0.1 / 0.14 (squared error 0.0686); on beta = 0 the best alpha is the
  // mean, 0.2 (squared error 0.02): the constrained optimum is the second
  const auto m = fit_probe_correction({0.9, 0.8, 0.7}, {0.7, 0.8, 0.9}, 59);
  CHECK(m.beta == 0.0);
  CHECK(m.alpha == Approx(0.2).epsilon(1e-12));
  // every probe at SC = 1 (d = 0): only alpha acts, and the best alpha is the labels' mean 1 - SC, (0.1 + 0.2 +
  // 0.3) / 3 = 0.2 (it was 0, predicting SC = 1 whatever the labels)
  const auto one = fit_probe_correction({1.0, 1.0, 1.0}, {0.9, 0.8, 0.7}, 59);
  CHECK(one.alpha == Approx(0.2).epsilon(1e-12));
  CHECK(one.predict(1.0) == Approx(0.8).epsilon(1e-12));
}

TEST_CASE("evidence: the probe correction with the movement from the 27-G sub-block, by hand",
          "[unit][select][evidence]") {
  // exact data on 1 - SC = 0.01 + 0.9 (1 - SC_probe) - 0.1 (SC_27 - SC_probe): the fit recovers all three
  const std::vector<double> x{0.95, 0.9, 0.8, 0.7, 0.6, 0.85}, x27{0.96, 0.93, 0.8, 0.72, 0.58, 0.9};
  std::vector<double> y;
  for (std::size_t i = 0; i < x.size(); ++i) y.push_back(1 - (0.01 + 0.9 * (1 - x[i]) - 0.1 * (x27[i] - x[i])));
  const auto c = fit_probe_correction(x, x27, y, 59, 27);
  CHECK(c.alpha == Approx(0.01).margin(1e-10));
  CHECK(c.beta == Approx(0.9).margin(1e-10));
  CHECK(c.gamma == Approx(-0.1).margin(1e-10));
  CHECK(c.second_g == 27);
  CHECK(c.n_fit == 6);
  // SC_probe 0.85, SC_27 0.87: 1 - (0.01 + 0.9 * 0.15 - 0.1 * 0.02) = 1 - 0.143 = 0.857
  CHECK(c.predict(0.85, 0.87) == Approx(0.857).margin(1e-10));
  CHECK(c.predict(0.85) == Approx(0.855).margin(1e-10));  // no sub-block below the probe: no movement
  // the cap: SC_probe 1 with SC_27 far above would give 1 - (0.01 - 0.1 * 0.5) = 1.04
  ProbeCorrection k = c;
  k.alpha = 0.01, k.beta = 0.9, k.gamma = -0.1;
  CHECK(k.predict(1.0, 1.5) == 1.0);
  // data whose three-term fit has a negative intercept (e = -0.05 + d, no movement): the one-block fit,
  // through the origin (beta = 0.11 / 0.14 as in the case above), gamma 0
  const auto f = fit_probe_correction({0.9, 0.8, 0.7, 0.6}, {0.9, 0.81, 0.7, 0.6}, {0.95, 0.85, 0.75, 0.65}, 59, 27);
  CHECK(f.alpha == 0.0);
  CHECK(f.gamma == 0.0);
  CHECK(f.second_g == 0);
  CHECK_THROWS_AS(fit_probe_correction({0.9, 0.8, 0.7}, {0.9, 0.8, 0.7}, {0.9, 0.8, 0.7}, 59, 27), rung::Error);
}

TEST_CASE("evidence: a hand-made calibration from residuals to the decision's edges",
          "[unit][select][evidence][policy]") {
  // five validation materials (SC_probe x, SC_27 x27, converged SC) under 1 - SC = 0.01 + 0.9 (1 - x) - 0.1 (x27 - x);
  // by hand, e.g. the second: 1 - (0.01 + 0.9 * 0.25 - 0.1 * 0.05) = 1 - 0.23 = 0.77
  ProbeCorrection c;
  c.alpha = 0.01, c.beta = 0.9, c.gamma = -0.1, c.second_g = 27;
  const double xs[5] = {0.85, 0.75, 0.9, 0.65, 0.8}, x27[5] = {0.87, 0.80, 0.9, 0.66, 0.8};
  const double label[5] = {0.851, 0.7825, 0.904, 0.673, 0.79};
  const double pred[5] = {0.857, 0.77, 0.9, 0.676, 0.81};  // 1 - (0.01 + 0.9 (1 - x) - 0.1 (x27 - x))
  std::vector<double> res;
  for (int i = 0; i < 5; ++i) {
    CHECK(c.predict(xs[i], x27[i]) == Approx(pred[i]).margin(1e-12));
    res.push_back(c.predict(xs[i], x27[i]) - label[i]);
  }
  // |residuals| 0.006, 0.0125, 0.004, 0.003, 0.02; coverage 0.8: rank ceil(6 * 0.8) = 5 -> the largest, 0.02;
  // coverage 0.6: rank ceil(3.6) = 4 -> sorted 0.003 0.004 0.006 0.0125 0.02 -> 0.0125
  CHECK(conformal_half_width(res, 0.8) == Approx(0.02).margin(1e-12));
  CHECK(conformal_half_width(res, 0.6) == Approx(0.0125).margin(1e-12));
  CHECK(std::isinf(conformal_half_width(res, 0.9)));  // rank ceil(5.4) = 6 > 5
  // a new material at SC_probe 0.85, SC_27 0.87: SC 0.857, interval 0.857 -+ 0.0125 = [0.8445, 0.8695]
  Evidence e;
  e.source = "qe-probe";
  e.sc = c.predict(0.85, 0.87);
  const double h = conformal_half_width(res, 0.6);
  e.lower = e.sc - h, e.upper = e.sc + h;
  CHECK(e.lower == Approx(0.8445).margin(1e-12));
  CHECK(e.upper == Approx(0.8695).margin(1e-12));
  PolicyOptions o;
  o.threshold = 0.844;  // below the low end: sufficient
  CHECK(decide(e, o).decision == Decision::ipa_sufficient);
  o.threshold = 0.845;  // inside: uncertain (launched)
  CHECK(decide(e, o).decision == Decision::uncertain);
  o.threshold = 0.869;
  CHECK(decide(e, o).decision == Decision::uncertain);
  o.threshold = 0.87;  // above the high end: needed
  CHECK(decide(e, o).decision == Decision::rpa_needed);
  // without the movement term the same probe predicts 0.855: its interval [0.8425, 0.8675] under the same h
  e.sc = c.predict(0.85), e.lower = e.sc - h, e.upper = e.sc + h;
  o.threshold = 0.844;
  CHECK(decide(e, o).decision == Decision::uncertain);
}

TEST_CASE("evidence: the decision at the edges of the interval", "[unit][select][evidence][policy]") {
  PolicyOptions o;
  o.threshold = 0.85;
  Evidence e;
  e.source = "qe-probe";
  e.sc = 0.87;
  e.lower = 0.85;  // the low end exactly at the threshold: sufficient (the threshold counts as sufficient)
  e.upper = 0.89;
  CHECK(decide(e, o).decision == Decision::ipa_sufficient);
  e.lower = std::nextafter(0.85, 0.0);  // just below: the interval straddles
  CHECK(decide(e, o).decision == Decision::uncertain);
  e.sc = 0.83, e.lower = 0.81, e.upper = 0.85;  // the high end at the threshold: straddles (SC = t is sufficient)
  CHECK(decide(e, o).decision == Decision::uncertain);
  e.upper = std::nextafter(0.85, 0.0);  // just below: needed
  CHECK(decide(e, o).decision == Decision::rpa_needed);
  // the spread factor scales the half-widths as stated: [0.83 - 2 * 0.02, 0.83 + 2 * 0.01]
  e.sc = 0.83, e.lower = 0.81, e.upper = 0.84;
  o.spread_factor = 2;
  const auto r = decide(e, o);
  CHECK(r.lower == Approx(0.79));
  CHECK(r.upper == Approx(0.85));
  CHECK(r.decision == Decision::uncertain);
  // an interval capped at 1 is scaled from its half-width, not from what the cap left above the SC: 0.995 +/- 0.0102
  // is [0.9848, 1]; at factor 0.5 it is [0.9899, 1] (0.995 + 0.0051 capped), which straddles 0.999 (scaling the
  // 0.005 left above would give 0.9975 and call it rpa-needed)
  e.sc = 0.995, e.lower = 0.995 - 0.0102, e.upper = 1.0;
  o.spread_factor = 0.5;
  o.threshold = 0.999;
  const auto capped = decide(e, o);
  CHECK(capped.lower == Approx(0.9899));
  CHECK(capped.upper == 1.0);
  CHECK(capped.decision == Decision::uncertain);
  o.spread_factor = 3;  // [0.9644, 1]: the scaled interval never passes 1
  CHECK(decide(e, o).upper == 1.0);
  o.threshold = 0.85;
  // a half-width beyond max_spread: uncertain whatever the SC
  o.spread_factor = 1;
  o.max_spread = 0.05;
  e.sc = 0.99, e.lower = 0.85, e.upper = 1.0;  // half-width 0.075
  CHECK(decide(e, o).decision == Decision::uncertain);
  // an interval that does not contain the SC is a broken evidence source
  e.sc = 0.9, e.lower = 0.91, e.upper = 0.95;
  CHECK_THROWS_AS(decide(e, o), rung::Error);
}

TEST_CASE("evidence: the probe's SC from a label's G-block history", "[unit][select][evidence]") {
  const auto prov = nlohmann::json::parse(R"({"rpa_provenance": {"convergence": {
    "rule": "SC(block E, block 2E) >= threshold on x, y and z; the larger block is kept", "chosen_n_g": 309,
    "probes": [{"n_g": 11, "sc_ipa_rpa": 0.86}, {"n_g": 15, "sc_ipa_rpa": 0.82}, {"n_g": 33, "sc_ipa_rpa": 0.80},
               {"n_g": 61, "sc_ipa_rpa": 0.791}],
    "history": [{"n_g": 95, "sc_ipa_rpa": 0.782}, {"n_g": 253, "sc_ipa_rpa": 0.779}, {"n_g": 309, "sc_ipa_rpa": 0.7789}]}}})");
  const auto p = probe_from_provenance(prov, 59);
  REQUIRE(p);
  CHECK(p->n_g == 61);  // the first block of at least 59 G
  CHECK(p->sc == 0.791);
  CHECK(p->label_n_g == 309);
  CHECK(probe_from_provenance(prov, 90)->n_g == 95);  // from the ladder
  CHECK_FALSE(probe_from_provenance(prov, 40));  // first block >= 40 is 61 > 1.5 * 40: not the probe's block
  // the sub-block of the movement term: the first block of at least 27 G below the probe's
  const auto q = probe_from_provenance(prov, 59, 27);
  REQUIRE(q);
  CHECK(q->second_n_g == 33);
  CHECK(q->sc_second == 0.80);
  CHECK(q->sc == 0.791);
  const auto none = probe_from_provenance(prov, 59, 70);  // none below the probe block: the probe's own SC
  REQUIRE(none);
  CHECK(none->second_n_g == 61);
  CHECK(none->sc_second == 0.791);
  CHECK(probe_from_provenance(prov, 59)->sc_second == 0.791);  // without a sub-block
  auto old = prov;
  old["rpa_provenance"]["convergence"].erase("rule");  // a label of the superseded rule
  CHECK_FALSE(probe_from_provenance(old, 59));
}

TEST_CASE("evidence: the calibration file round trip and its errors", "[unit][select][evidence]") {
  Calibration c;
  c.probe = ProbeCorrection{59, 0.015, 0.97, 0.012, 0.9, 30, 10};
  c.model = ModelInterval{"0123456789abcdef", 0.08, 0.9, 10};
  const auto back = Calibration::from_json(c.to_json(), "memory");
  REQUIRE(back.probe);
  CHECK(back.probe->beta == 0.97);
  CHECK(back.probe->half_width == 0.012);
  REQUIRE(back.model);
  CHECK(back.model->model_identity == "0123456789abcdef");
  auto j = c.to_json();
  j["probe"]["alpha"] = -0.1;  // would let SC exceed 1
  try {
    Calibration::from_json(j, "cal.json");
    FAIL("negative alpha accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
    CHECK(std::string(e.what()).find("cal.json") != std::string::npos);
    CHECK(std::string(e.what()).find("alpha") != std::string::npos);
  }
  CHECK(c.to_json()["format_version"] == 1);  // no movement term: readable by older rungs
  // with the movement term: format version 2, gamma and second_g round trip
  c.probe->second_g = 27, c.probe->gamma = -0.09;
  const auto j2 = c.to_json();
  CHECK(j2["format_version"] == 2);
  const auto back2 = Calibration::from_json(j2, "memory");
  CHECK(back2.probe->second_g == 27);
  CHECK(back2.probe->gamma == -0.09);
  // a version-1 file (the shipped format before the movement term): gamma 0, no sub-block
  const auto v1 = nlohmann::json::parse(R"({"format": "rung-calibration", "format_version": 1, "probe": {"probe_g": 59,
    "alpha": 0.0128, "beta": 0.9737, "half_width": 0.0128, "coverage": 0.9, "n_fit": 118, "n_calibration": 24}})");
  const auto old = Calibration::from_json(v1, "v1.json");
  CHECK(old.probe->second_g == 0);
  CHECK(old.probe->gamma == 0.0);
  CHECK(old.probe->predict(0.8, 0.9) == Approx(1 - (0.0128 + 0.9737 * 0.2)).margin(1e-12));
  auto bad = j2;
  bad["probe"]["second_g"] = 59;  // not below the probe block
  CHECK_THROWS_AS(Calibration::from_json(bad, "cal.json"), rung::Error);
  bad = j2;
  bad["format_version"] = 3;
  CHECK_THROWS_AS(Calibration::from_json(bad, "cal.json"), rung::Error);
  const fs::path broken = fs::temp_directory_path() / "rung_test_broken_calibration.json";
  std::ofstream(broken) << "{\"format\": \"rung-calibration\", ";
  CHECK_THROWS_AS(Calibration::load(broken), rung::Error);
}

// The probe on the YAMBO 5.2.4 Si case (shifted 8x8x8, 16 bands): with the identity correction its SC is
// SC(IPA, RPA) at 59 G, which YAMBO's own o- file gives from its eps and eps_o columns. rung's spectra
// match YAMBO's to SC >= 0.9999 (measured 0.99998; asserted for the dp IPA and RPA 9 / 27 / 59 G by the YAMBO
// 5.2.4 test case of tests/response/spectrum_reference.cpp); the two SCs
// agree to 2e-6 (measured: 0.8764175 against 0.8764158). The bound 2e-4 leaves room for the QE re-run and
// still fails on a wrong block (SC at 27 G is 0.908, at 113 G 0.875) or a swapped reference.
TEST_CASE("evidence: the probe's SC at 59 G equals YAMBO 5.2.4's on Si", "[reference][select][evidence]") {
  const fs::path ref = rung::test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_dp" / "o-rpa_ng59_x.eps_q1_inv_rpa_dyson";
  RUNG_REQUIRE_SHARED(ref);
  const auto save_dir = rung::test::qe_save("si_shifted_888", "si");
  RUNG_REQUIRE_FIXTURE("si_shifted_888");
  const auto yambo = rung::read_any_spectrum(ref);
  std::vector<double> lf, nolf;
  for (std::size_t i = 0; i < yambo.eps.size(); ++i) lf.push_back(yambo.eps[i].imag()), nolf.push_back((*yambo.eps_nolf)[i].imag());
  const double sc_yambo = rung::similarity_coefficient(yambo.energy_eV, lf, nolf);
  const auto save = rung::qe::Save::read(save_dir);
  ProbeCorrection identity;
  identity.probe_g = 59;
  const auto e = probe_evidence(save, identity, rung::Comm::self());
  CAPTURE(sc_yambo, e.sc);
  CHECK(e.source == "qe-probe");
  CHECK(e.details["probe_n_g"].get<int>() == 59);
  CHECK(e.sc == Approx(sc_yambo).margin(2e-4));
  CHECK(e.details["sc_probe"].get<double>() == e.sc);
  CHECK(e.details["cost"]["wall_s"].get<double>() > 0);
  // the movement term's sub-block: a Dyson solve on the leading 27 G of the 59-G chi0 gives exactly the SC of a
  // run on the 27-G block (chi0 over a block is a column prefix of chi0 over a larger one)
  ProbeCorrection moving = identity;
  moving.second_g = 27;
  const auto m = probe_evidence(save, moving, rung::Comm::self());
  REQUIRE(m.details.contains("sc_second"));
  CHECK(m.details["sc_second"]["n_g"].get<int>() == 27);
  CHECK(m.details["sc_probe"].get<double>() == Approx(e.details["sc_probe"].get<double>()).margin(1e-12).epsilon(0));
  rung::response::SpectrumRequest r27;
  r27.theory = "rpa";
  r27.block = "27";
  r27.converge = false;
  r27.directions = {"x", "y", "z"};
  const auto set27 = compute_native_spectrum(save, r27, rung::Comm::self());
  std::vector<double> ipa(set27.energy_eV.size(), 0.0), rpa(ipa.size(), 0.0);
  for (const char* d : {"x", "y", "z"})
    for (std::size_t i = 0; i < ipa.size(); ++i) {
      const auto& sp = set27.components.at(d).spectrum;
      rpa[i] += sp.eps[i].imag() / 3, ipa[i] += (*sp.eps_nolf)[i].imag() / 3;
    }
  const double sc27 = rung::similarity_coefficient(set27.energy_eV, rpa, ipa);
  CAPTURE(sc27);
  CHECK(m.details["sc_second"]["sc"].get<double>() == Approx(sc27).margin(1e-9));
  CHECK(sc27 == Approx(0.908).margin(2e-3));  // the SC at 27 G named above
}

namespace {

std::string id_of(int i) { return fmt::format("m{}", i); }

// A predictor that knows each material by its lattice constant (5 + 0.01 i Bohr) and returns label_i + offset_i.
class TablePredictor : public Predictor {
public:
  explicit TablePredictor(std::vector<double> sc) : sc_(std::move(sc)) { info_.kind = "synthetic"; }
  std::vector<Prediction> predict(const std::vector<rung::Structure>& s) override {
    std::vector<Prediction> out;
    for (const auto& x : s) {
      Prediction p;
      p.sc = sc_.at(static_cast<std::size_t>(std::lround((x.lattice(0, 0) - 5) / 0.01)));
      out.push_back(p);
    }
    return out;
  }
  const ModelSetInfo& info() const override { return info_; }

private:
  std::vector<double> sc_;
  ModelSetInfo info_;
};

}  // namespace

// The model's interval from validation residuals (every labelled validation material, whether or not its
// history holds the probe block) and from cross-validation residuals of the training materials, by hand:
// 30 training, 12 validation (3 without a G-block history), 6 test materials.
TEST_CASE("calibration: the model's interval from validation and cross-validation residuals",
          "[unit][select][evidence]") {
  const fs::path dir = fs::temp_directory_path() / "rung_test_cv_calibration";
  fs::remove_all(dir);
  fs::create_directories(dir);
  rung::OptimateDataset data;
  std::ofstream train(dir / "train_set.txt"), val(dir / "validation_set.txt"), test(dir / "test_set.txt");
  const int n_train = 30, n_val = 12, n = 48;
  std::vector<double> label(n), full(n), cv(n);
  std::vector<double> res_val, res_cv;
  for (int i = 0; i < n; ++i) {
    rung::DatasetMaterial m;
    m.id = id_of(i);
    m.structure.lattice = Eigen::Matrix3d::Identity() * (5 + 0.01 * i);
    m.structure.frac = {{0, 0, 0}};
    m.structure.numbers = {14};
    label[i] = 0.6 + 0.005 * i;
    m.sc_ipa_rpa = label[i];
    // residuals: the full model within 0.001 i of the label alternating in sign, the fold models 0.002 i
    full[i] = label[i] + (i % 2 ? 1 : -1) * 0.001 * i;
    cv[i] = label[i] - 0.002 * i;
    const bool history = !(i >= n_train && i < n_train + 3);  // three validation materials without one
    m.provenance = history ? nlohmann::json{{"rpa_provenance",
                                             {{"convergence",
                                               {{"rule", "E vs 2E"},
                                                {"chosen_n_g", 113},
                                                {"history",
                                                 {{{"n_g", 59}, {"sc_ipa_rpa", label[i] + 0.01}},
                                                  {{"n_g", 113}, {"sc_ipa_rpa", label[i]}}}}}}}}}
                                 .dump()
                           : "{}";
    (i < n_train ? train : i < n_train + n_val ? val : test) << m.id << "\n";
    if (i >= n_train && i < n_train + n_val) res_val.push_back(full[i] - label[i]);
    if (i < n_train) res_cv.push_back(cv[i] - label[i]);
    data.materials.push_back(m);
  }
  train.close(), val.close(), test.close();
  CalibrationOptions o;
  o.split_dir = dir;
  TablePredictor model(full), fold_a(cv), fold_b(cv);
  const auto plain = fit_calibration(data, o, &model);
  REQUIRE(plain.calibration.model);
  CHECK(plain.calibration.model->n_calibration == 12);  // the three without a history count for the model
  CHECK(plain.calibration.probe->n_calibration == 9);   // but not for the probe
  CHECK(plain.calibration.model->half_width == Approx(conformal_half_width(res_val, 0.9)).margin(1e-15).epsilon(0));
  CHECK(plain.calibration.model->folds == 0);
  CHECK(plain.calibration.report["subsets"]["test"]["model"]["n"] == 6);
  // the printed table: each decision cell gives the accuracy, the uncertain count and the definite calls right
  const std::string table = calibration_table(plain.calibration);
  const auto row_at =
      table.find("| validation+test | " +
                 std::to_string(plain.calibration.report["subsets"]["validation+test"]["n"].get<int>()) + " | probe |");
  REQUIRE(row_at != std::string::npos);
  const std::string row = table.substr(row_at, table.find('\n', row_at) - row_at);
  std::vector<std::string> cells;  // the row's cells between its bars
  for (std::size_t a = 1, b; (b = row.find('|', a)) != std::string::npos; a = b + 1)
    cells.push_back(row.substr(a, b - a));
  const auto& decisions = plain.calibration.report["subsets"]["validation+test"]["decisions"];
  REQUIRE(cells.size() == 6 + decisions.size());  // materials, n, evidence, mean, max, coverage, one per threshold
  for (std::size_t t = 0; t < decisions.size(); ++t) {
    const auto& d = decisions[t];
    const auto& p = d["probe"];
    const int right = p["right"], wrong = p["wrong"], unc = p["uncertain"], n_dec = p["n"];
    CHECK(right + wrong + unc == n_dec);
    const std::string cell = fmt::format("% ({}; {}/{}) ", unc, right, right + wrong);
    INFO("threshold " << d["threshold"].get<double>() << ": cell '" << cells[6 + t] << "'");
    CHECK(cells[6 + t].find(cell) != std::string::npos);
  }

  std::vector<CvFold> folds(2);
  folds[0].model = &fold_a, folds[0].name = "fold_0";
  folds[1].model = &fold_b, folds[1].name = "fold_1";
  for (int i = 0; i < n_train; ++i) folds[i % 2].held_out.push_back(id_of(i));
  folds[1].held_out.push_back("not-in-the-data-set");  // ignored
  const auto withcv = fit_calibration(data, o, &model, folds);
  REQUIRE(withcv.calibration.model);
  const auto& mi = *withcv.calibration.model;
  CHECK(mi.n_calibration == 12);
  CHECK(mi.n_cross_validation == 30);
  CHECK(mi.folds == 2);
  std::vector<double> all = res_val;
  all.insert(all.end(), res_cv.begin(), res_cv.end());
  CHECK(mi.half_width == Approx(conformal_half_width(all, 0.9)).margin(1e-15).epsilon(0));
  CHECK(mi.half_width > plain.calibration.model->half_width);  // the fold residuals (0.002 i) are larger here
  CHECK(mi.method().find("2 cross-validation folds") != std::string::npos);
  const auto back = Calibration::from_json(withcv.calibration.to_json(), "memory");
  CHECK(back.model->n_cross_validation == 30);
  CHECK(back.model->folds == 2);
  CHECK(withcv.calibration.report["cross_validation"]["n"] == 30);

  // a fold that holds out a validation material would calibrate on what the model's checkpoint saw
  auto leaky = folds;
  leaky[0].held_out.push_back(id_of(n_train));
  try {
    fit_calibration(data, o, &model, leaky);
    FAIL("a fold holding out a validation material was accepted");
  } catch (const rung::Error& e) {
    CHECK(std::string(e.what()).find("fold_0") != std::string::npos);
    CHECK(std::string(e.what()).find("validation") != std::string::npos);
  }
  auto twice = folds;
  twice[1].held_out.push_back("m0");  // fold_0 holds it out already
  CHECK_THROWS_AS(fit_calibration(data, o, &model, twice), rung::Error);
  fs::remove_all(dir);
}

// A save with its occupied bands only (an scf run) cannot give the probe its empty bands: fixed occupations, 8
// electrons, two k-points. Unpolarised with 4 bands (nelec / 2), and noncollinear with 8 spinor bands (one electron
// each), hold nothing empty; one more band of either does.
TEST_CASE("evidence: a save of occupied bands only, unpolarised and noncollinear", "[unit][select][evidence]") {
  rung::qe::Save s;
  s.occupations = "fixed";
  s.nelec = 8;
  s.nbnd = 4;
  s.k_cart = {Eigen::Vector3d::Zero(), Eigen::Vector3d(0.1, 0, 0)};
  s.k_weights = {1.0, 1.0};
  CHECK(only_occupied_bands(s));
  s.nbnd = 5;
  CHECK_FALSE(only_occupied_bands(s));
  s.noncolin = true;
  s.nbnd = 8;
  CHECK(only_occupied_bands(s));
  s.nbnd = 9;
  CHECK_FALSE(only_occupied_bands(s));
}
