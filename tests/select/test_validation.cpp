// `rung validate` on real YAMBO spectra (../shared/reference/yambo-5.2.4) and its plots.
#include "core/error.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"
#include "select/report_plot.hpp"
#include "select/validation.hpp"
#include "support/paths.hpp"

#include <filesystem>
#include <functional>
#include <cmath>
#include <fstream>

using namespace rung::select;
namespace fs = std::filesystem;

namespace {
fs::path yambo_sp() { return rung::test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_sp"; }
// the test process's own scratch folder (tests/support/catch_main.cpp): the command-line tests that ctest runs
// beside these write their files, and their temporary files, into build/test_select_tmp, where a scan for leftovers
// would see theirs and a file of the same name could be replaced under a case
fs::path tmp_dir() {
  auto d = fs::temp_directory_path() / "test_select_tmp";
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("validate: IP vs RPA-LF of YAMBO's Si gives the SC of its two spectra", "[reference][select][validate]") {
  RUNG_REQUIRE_SHARED(yambo_sp());
  // SC of Im eps between YAMBO's own outputs in yambo_sp: IP (o-ip_x.eps_q1_ip) against RPA-LF at 113 G
  // (o-rpa_ng113_x.eps_q1_inv_rpa_dyson) 0.86, RPA-LF at 59 G against 113 G 0.998; the tolerance is half a unit
  // of the last digit checked.
  const auto ip_rpa = validate_pair(yambo_sp() / "o-ip_x.eps_q1_ip", yambo_sp() / "o-rpa_ng113_x.eps_q1_inv_rpa_dyson");
  CHECK(ip_rpa.distance.sc == Approx(0.86).margin(0.005));
  CHECK(ip_rpa.energy_eV.size() == 2001);
  CHECK(ip_rpa.name == "o-rpa_ng113_x");
  const auto g59 = validate_pair(yambo_sp() / "o-rpa_ng59_x.eps_q1_inv_rpa_dyson",
                                 yambo_sp() / "o-rpa_ng113_x.eps_q1_inv_rpa_dyson");
  CHECK(g59.distance.sc == Approx(0.998).margin(0.0005));
  // A spectrum against itself.
  const auto same = validate_pair(yambo_sp() / "o-ip_x.eps_q1_ip", yambo_sp() / "o-ip_x.eps_q1_ip");
  CHECK(same.distance.sc == Approx(1.0).margin(1e-12).epsilon(0));
  CHECK(same.distance.mse == Approx(0.0).margin(1e-20));
}

TEST_CASE("validate: aggregates are numpy-style quantiles", "[unit][select][validate]") {
  const auto s = summarize({4, 1, 3, 2});
  CHECK(s.n == 4);
  CHECK(s.min == 1);
  CHECK(s.q1 == Approx(1.75));
  CHECK(s.median == Approx(2.5));
  CHECK(s.q3 == Approx(3.25));
  CHECK(s.max == 4);
  CHECK(s.mean == Approx(2.5));
  CHECK(summarize({0.7}).median == Approx(0.7));
  CHECK(summarize({}).n == 0);
}

TEST_CASE("validate: report over several materials, JSON and text", "[reference][select][validate]") {
  RUNG_REQUIRE_SHARED(yambo_sp());
  std::vector<ValidationEntry> entries;
  for (int ng : {9, 27, 59, 113})
    entries.push_back(validate_pair(yambo_sp() / "o-ip_x.eps_q1_ip",
                                    yambo_sp() / ("o-rpa_ng" + std::to_string(ng) + "_x.eps_q1_inv_rpa_dyson")));
  const auto r = make_report(entries);
  CHECK(r.sc.n == 4);
  // Local fields grow with the block, so the IPA drifts away from the RPA: SC falls from 9 to 113 G.
  CHECK(entries[0].distance.sc > entries[3].distance.sc);
  CHECK(r.sc.min == Approx(entries[3].distance.sc));
  const auto j = r.to_json();
  CHECK(j["materials"].size() == 4);
  CHECK(j["aggregate"]["sc"]["median"].get<double>() == Approx(r.sc.median));
  CHECK(r.to_text().find("median") != std::string::npos);
}

TEST_CASE("validate: PNG and SVG plots are written and non-empty", "[reference][select][validate][plot]") {
  RUNG_REQUIRE_SHARED(yambo_sp());
  RUNG_SKIP_UNLESS(have_plots(), "rung was built without PLplot");
  std::vector<ValidationEntry> entries;
  for (int ng : {9, 27, 59, 113})
    entries.push_back(validate_pair(yambo_sp() / "o-ip_x.eps_q1_ip",
                                    yambo_sp() / ("o-rpa_ng" + std::to_string(ng) + "_x.eps_q1_inv_rpa_dyson")));
  const auto r = make_report(entries);
  const auto png = tmp_dir() / "validate.png", svg = tmp_dir() / "validate.svg";
  fs::remove(png);
  fs::remove(svg);
  plot_validation(r, png);
  plot_validation(r, svg);
  REQUIRE(fs::exists(png));
  CHECK(fs::file_size(png) > 10000);  // a 1600-pixel-wide figure with curves is tens of kB
  std::ifstream in(png, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  CHECK(std::string(magic + 1, 3) == "PNG");
  std::ifstream s(svg);
  const std::string text((std::istreambuf_iterator<char>(s)), {});
  CHECK(text.find("<svg") != std::string::npos);
  // More materials than panels: still one figure (lowest and highest SC shown).
  std::vector<ValidationEntry> many;
  for (int i = 0; i < 12; ++i) many.push_back(entries[i % 4]);
  plot_validation(make_report(many), tmp_dir() / "validate_many.png", PlotOptions{4, 1200});
  CHECK(fs::file_size(tmp_dir() / "validate_many.png") > 10000);
  // No leftovers from the atomic write.
  for (const auto& e : fs::directory_iterator(tmp_dir())) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  try {
    plot_validation(r, tmp_dir() / "validate.gif");
    FAIL("gif accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::usage);
  }
}

namespace {
// A `rung predict -o` file as cmd_predict writes it (format rung-prediction v1): the trace of Im eps of
// each structure on the paper's grid, here a Gaussian per structure with its own height.
fs::path prediction_file(const std::string& name, const std::vector<std::string>& ids) {
  const auto path = tmp_dir() / name;
  auto f = rung::h5::File::create(path);
  f.set_attr("/", "format", "rung-prediction");
  f.set_attr("/", "format_version", std::int64_t(1));
  f.set_attr("/", "target", "rpa");
  f.write_strings("/ids", ids);
  std::vector<double> e(2001);
  std::vector<float> eps;
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = 0.01 * double(i);
  for (std::size_t k = 0; k < ids.size(); ++k)
    for (double x : e) eps.push_back(float(double(k + 1) * std::exp(-(x - 5) * (x - 5))));
  f.write("/energy_eV", e);
  f.write("/eps_imag", eps, {ids.size(), e.size()}, true);
  return path;
}

// A rung spectrum file with the given components, each its own scale times the first prediction's Gaussian.
fs::path computed_file(const std::string& name, const std::vector<std::pair<std::string, double>>& components) {
  rung::SpectrumSet set;
  set.theory = "rpa";
  set.energy_eV.resize(2001);
  for (std::size_t i = 0; i < 2001; ++i) set.energy_eV[i] = 0.01 * double(i);
  for (const auto& [c, scale] : components) {
    rung::SpectrumComponent sc;
    sc.spectrum.energy_eV = set.energy_eV;
    for (double x : set.energy_eV) sc.spectrum.eps.push_back({1.0, scale * std::exp(-(x - 5) * (x - 5))});
    set.components[c] = sc;
  }
  const auto path = tmp_dir() / name;
  rung::write_spectrum_file(path, set);
  return path;
}

// The same with every component `scale` times the Gaussian.
fs::path computed_file(const std::string& name, const std::vector<std::string>& components, double scale) {
  std::vector<std::pair<std::string, double>> scaled;
  for (const auto& c : components) scaled.emplace_back(c, scale);
  return computed_file(name, scaled);
}
}  // namespace

// One file missing at a time, each with its own name, so the message must name the one that is missing (both
// paths share "/nonexistent/", which told nothing).
TEST_CASE("validate: a missing file is an input error naming it", "[unit][select][validate]") {
  const auto present = computed_file("Si_present.h5", {"trace"}, 1.0);
  const std::string missing_predicted = "/nonexistent/rung_missing_predicted.h5";
  const std::string missing_computed = "/nonexistent/rung_missing_computed.h5";
  const auto refused_naming = [](const std::function<void()>& call, const std::string& name) {
    try {
      call();
      FAIL(name + " accepted although it is missing");
    } catch (const rung::Error& e) {
      CHECK(e.kind() == rung::ErrorKind::input);
      CHECK_THAT(e.what(), Catch::Matchers::Contains(name));
    }
  };
  refused_naming([&] { validate_pair(missing_predicted, present); }, "rung_missing_predicted.h5");
  refused_naming([&] { validate_pair(present, missing_computed); }, "rung_missing_computed.h5");
}

TEST_CASE("validate: `rung predict -o` files are read, their entry chosen by the computed file's name",
          "[unit][select][validate]") {
  const auto two = prediction_file("pred_two.h5", {"Si", "GaAs"});
  // Computed = 0.9 x prediction: SC = 1 - 0.1/0.9 by hand (same grid, no interpolation: 1e-6 for the
  // float32 storage of the prediction).
  const auto si = validate_pair(two, computed_file("Si.h5", {"trace"}, 0.9));
  CHECK(si.distance.sc == Approx(1 - 0.1 / 0.9).margin(1e-6));
  CHECK(si.predicted_component == "trace");
  CHECK(si.computed_component == "trace");
  // GaAs is the second entry (height 2): computed 0.9 is 0.45 of it, SC = 1 - 0.55/0.45 < 0.
  const auto gaas = validate_pair(two, computed_file("GaAs.h5", {"trace"}, 0.9));
  CHECK(gaas.distance.sc == Approx(1 - (2 - 0.9) / 0.9).margin(1e-6));
  try {
    validate_pair(two, computed_file("InP.h5", {"trace"}, 1.0));
    FAIL("picked an entry for a material the file does not hold");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("Si, GaAs"));
  }
  // A file with one prediction is compared whatever the computed file is called.
  const auto one = prediction_file("pred_one.h5", {"agm1"});
  CHECK(validate_pair(one, computed_file("whatever.h5", {"trace"}, 1.0)).distance.sc == Approx(1.0).margin(1e-6));
  // An SC-only prediction holds no spectrum.
  {
    auto f = rung::h5::File::create(tmp_dir() / "pred_sc.h5");
    f.set_attr("/", "format", "rung-prediction");
    f.set_attr("/", "format_version", std::int64_t(1));
    f.write_strings("/ids", {"Si"});
    f.write("/sc", std::vector<double>{0.8});
  }
  CHECK_THROWS_WITH(validate_pair(tmp_dir() / "pred_sc.h5", computed_file("Si.h5", {"trace"}, 1.0)),
                    Catch::Matchers::Contains("holds no predicted spectra"));
}

TEST_CASE("validate: two predictions of one id are ambiguous, and the theories are reported",
          "[unit][select][validate]") {
  // two polymorphs read from CIFs whose data_ blocks are both "Si": which prediction a computed Si.h5 belongs to
  // cannot be told (the first was taken, silently)
  const auto twice = prediction_file("pred_twice.h5", {"Si", "Si"});
  try {
    validate_pair(twice, computed_file("Si.h5", {"trace"}, 1.0));
    FAIL("an ambiguous id was resolved to one of its predictions");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("2 predictions with the id 'Si'") &&
                             Catch::Matchers::Contains("pred_twice.h5"));
  }
  // the theories each file records (the prediction's target, the computed set's theory) are in the report
  const auto e = validate_pair(prediction_file("pred_si.h5", {"Si"}), computed_file("Si.h5", {"trace"}, 1.0));
  CHECK(e.predicted_theory == "rpa");
  CHECK(e.computed_theory == "rpa");
  const auto text = make_report({e}).to_text();
  CHECK_THAT(text, Catch::Matchers::Contains("rpa / rpa") && Catch::Matchers::Contains("0.00-20.00"));
}

TEST_CASE("validate: a computed point a rounding past the predicted grid's end takes its end value",
          "[unit][select][validate]") {
  // The same Gaussian predicted on 0..20 eV and computed on a grid whose last point is 20 + 4e-15 eV (an Ha -> eV
  // round trip): that point lies inside the shared range (1e-12) and must not be compared with a prediction of 0.
  // Here the Gaussian is tiny at 20 eV, so a constant (1 everywhere) shows it: SC 1 exactly, 1 - 0.005/20 before.
  const auto path = tmp_dir() / "pred_flat.h5";
  {
    auto f = rung::h5::File::create(path);
    f.set_attr("/", "format", "rung-prediction");
    f.set_attr("/", "format_version", std::int64_t(1));
    f.set_attr("/", "target", "rpa");
    f.write_strings("/ids", {"flat"});
    std::vector<double> e(2001);
    for (std::size_t i = 0; i < e.size(); ++i) e[i] = 0.01 * double(i);
    f.write("/energy_eV", e);
    f.write("/eps_imag", std::vector<float>(2001, 1.0f), {1, 2001}, true);
  }
  rung::SpectrumSet set;
  set.theory = "rpa";
  set.energy_eV.resize(2001);
  for (std::size_t i = 0; i < 2001; ++i) set.energy_eV[i] = 0.01 * double(i);
  set.energy_eV.back() = 20.0 + 4e-15;
  rung::SpectrumComponent c;
  c.spectrum.energy_eV = set.energy_eV;
  c.spectrum.eps.assign(2001, {1.0, 1.0});
  set.components["trace"] = c;
  const auto computed = tmp_dir() / "flat.h5";
  rung::write_spectrum_file(computed, set);
  CHECK(validate_pair(path, computed).distance.sc == Approx(1.0).margin(1e-12));
}

TEST_CASE("validate: like with like (a trace is not compared with one direction unless told)",
          "[unit][select][validate]") {
  const auto one = prediction_file("pred_like.h5", {"Si"});
  // A reference holding only x: the predicted trace is refused, naming the reference and why.
  const auto x_only = computed_file("Si_x.h5", {"x"}, 1.0);
  try {
    validate_pair(one, x_only);
    FAIL("compared a trace with one direction");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("Si_x.h5") && Catch::Matchers::Contains("one direction (x)") &&
                             Catch::Matchers::Contains("cubic"));
  }
  // A prediction holds the trace only: asking it for x is refused.
  CHECK_THROWS_WITH(validate_pair(one, x_only, {"x", false}), Catch::Matchers::Contains("trace only"));
  // Told that the crystal is cubic, the direction stands in for the trace.
  const auto told = validate_pair(one, x_only, {"", true});
  CHECK(told.distance.sc == Approx(1.0).margin(1e-6));
  CHECK(told.computed_component == "x");
  // Two directions that differ: refused; the same direction of two files: compared. The two components of xy
  // differ (y is half of x), so the SC tells which one was read: x of xy against x_only is 1 (y's would give 0.5),
  // y of xy (0.5) against y_only (1.0) is 1 - 0.5 = 0.5 (x's would give 1).
  const auto xy = computed_file("Si_xy.h5", {{"x", 1.0}, {"y", 0.5}});
  const auto x_of_xy = validate_pair(xy, x_only, {"x", false});
  CHECK(x_of_xy.distance.sc == Approx(1.0).margin(1e-12).epsilon(0));
  CHECK(x_of_xy.predicted_component == "x");
  CHECK(x_of_xy.computed_component == "x");
  const auto y_only = computed_file("Si_y.h5", {"y"}, 1.0);
  const auto y_of_xy = validate_pair(xy, y_only, {"y", false});
  CHECK(y_of_xy.distance.sc == Approx(0.5).margin(1e-12).epsilon(0));
  CHECK(y_of_xy.predicted_component == "y");
  CHECK(y_of_xy.computed_component == "y");
  CHECK_THROWS_WITH(validate_pair(y_only, x_only), Catch::Matchers::Contains("--component"));
  // One direction under other names (eps along q is even in q): q_-2_0_0 is x, and --component x finds a file's
  // q_1_0_0 (the trace beside it is 0.5, so an SC of 1 says which component was read).
  const auto qneg = computed_file("Si_qneg.h5", {"q_-2_0_0"}, 1.0);
  const auto neg = validate_pair(qneg, x_only);
  CHECK(neg.distance.sc == Approx(1.0).margin(1e-12).epsilon(0));
  CHECK(neg.predicted_component == "x");
  const auto q_and_trace = computed_file("Si_q100_trace.h5", {{"q_1_0_0", 1.0}, {"trace", 0.5}});
  const auto by_x = validate_pair(q_and_trace, x_only, {"x", false});
  CHECK(by_x.distance.sc == Approx(1.0).margin(1e-12).epsilon(0));
  CHECK(by_x.predicted_component == "x");
}

TEST_CASE("validate: a YAMBO o- file holds one q direction, not the trace", "[reference][select][validate]") {
  RUNG_REQUIRE_SHARED(yambo_sp());
  const auto yambo = yambo_sp() / "o-rpa_ng113_x.eps_q1_inv_rpa_dyson";
  const auto one = prediction_file("pred_yambo.h5", {"Si"});
  // its "@ Q(1)" is 1 0 0: the x direction, named as rung's own files name it
  CHECK_THROWS_WITH(validate_pair(one, yambo), Catch::Matchers::Contains("one direction (x)"));
  // Si is cubic: the x direction is the trace, when the user says so.
  const auto e = validate_pair(one, yambo, {"", true});
  CHECK(e.computed_component == "x");
  CHECK(e.predicted_component == "trace");
  // rung's x against YAMBO's x: the same direction, compared without being told (until 2026-12-05 the YAMBO file
  // read as q_1_0_0 and the pair was refused as two different directions)
  const auto x_only = computed_file("Si_x_vs_yambo.h5", {"x"}, 1.0);
  const auto xx = validate_pair(x_only, yambo);
  CHECK(xx.predicted_component == "x");
  CHECK(xx.computed_component == "x");
  // and `rung spectrum --direction 1,0,0`'s component, q_1_0_0, is the same direction too
  const auto q100 = computed_file("Si_q100_vs_yambo.h5", {"q_1_0_0"}, 1.0);
  const auto qx = validate_pair(q100, yambo);
  CHECK(qx.predicted_component == "x");
  CHECK(qx.computed_component == "x");
  // a direction off the axes keeps its q name, and differs from x
  const auto q110 = computed_file("Si_q110_vs_yambo.h5", {"q_1_1_0"}, 1.0);
  CHECK_THROWS_WITH(validate_pair(q110, yambo), Catch::Matchers::Contains("q_1_1_0"));
}
