// One vocabulary for the solver's options: the canonical keys of response::SpectrumRequest are the ones
// rung.h documents (parsed from the header itself), every one is accepted, an unknown key is refused with
// its name, JSON round-trips, and the C API's selection keys are exactly the documented ones too.
#include "capi/rung.h"
#include "core/error.hpp"
#include "ml/predict_request.hpp"
#include "response/spectrum_driver.hpp"
#include "response/spectrum_request.hpp"
#include "select/run_selection.hpp"
#include "select/select_request.hpp"
#include "support/paths.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

using rung::response::SpectrumRequest;

namespace {

// The words after "<what> option keys:" in rung.h, up to the end of that comment paragraph.
std::set<std::string> documented_keys(const std::string& what) {
  std::ifstream in(rung::test::source_dir() / "src" / "capi" / "rung.h");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::string tag = what + " option keys:";
  const auto a = text.find(tag);
  REQUIRE(a != std::string::npos);
  std::set<std::string> keys;
  std::istringstream rest(text.substr(a + tag.size()));
  std::string line;
  bool first = true;
  while (std::getline(rest, line)) {
    // the list goes on while lines are " *" continuations indented beyond the tag's own indentation
    if (!first && line.rfind(" *     ", 0) != 0) break;
    std::istringstream words(first ? line : line.substr(2));
    for (std::string w; words >> w;) keys.insert(w);
    first = false;
  }
  return keys;
}

std::string last_error() {
  char buf[2048];
  rung_last_error(buf, sizeof buf);
  return buf;
}

}  // namespace

TEST_CASE("requests: rung.h documents exactly the solver's keys, each accepted", "[unit][select][requests]") {
  auto keys = SpectrumRequest::keys();
  std::set<std::string> code(keys.begin(), keys.end());
  code.erase("theory");  // the C API's argument
  CHECK(documented_keys("spectrum") == code);
  // every key, with a valid value, is accepted through the JSON reader the C API uses
  const auto defaults = SpectrumRequest{}.to_json();
  for (const auto& k : keys) {
    nlohmann::json j = nlohmann::json::object();
    // `converge` and `solver_step_eV` are unset by default
    j[k] = defaults.contains(k) ? defaults[k] : k == "solver_step_eV" ? nlohmann::json(0.05) : nlohmann::json(true);
    INFO(k);
    CHECK_NOTHROW(SpectrumRequest::from_json(j));
  }
  try {
    SpectrumRequest::from_json({{"block_cutoff_Ry", 4.0}});
    FAIL("an unknown key was accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::usage);
    CHECK(std::string(e.what()).find("\"block_cutoff_Ry\"") != std::string::npos);
  }
  try {
    SpectrumRequest::from_json({{"steps", "many"}});
    FAIL("a string for steps was accepted");
  } catch (const rung::Error& e) {
    CHECK(std::string(e.what()).find("\"steps\"") != std::string::npos);
  }
}

TEST_CASE("requests: JSON round trip and the solver's options", "[unit][select][requests]") {
  const auto r = SpectrumRequest::from_json(
      {{"theory", "rpa"}, {"block", 59}, {"bands", {1, 16}}, {"directions", {"x", "z"}}, {"broadening_eV", 0.1}});
  CHECK(r.block == "59");
  CHECK(r.bands == "1:16");
  const auto back = SpectrumRequest::from_json(r.to_json());
  CHECK(back.to_json() == r.to_json());
  const auto o = r.to_options("some.save");
  CHECK(o.gblock->count == 59);
  CHECK_FALSE(o.converge.enabled);  // a block given: no convergence
  CHECK(o.band_first == 0);
  CHECK(o.band_last == 15);
  CHECK(o.directions.size() == 2);
  CHECK(o.eta_eV == 0.1);
  auto c = SpectrumRequest::from_json({{"theory", "rpa"}});
  CHECK(c.to_options("x").converge.enabled);  // an RPA without a block converges
  // the solver's frequencies: every output one unless a step is given, rounded down to a multiple of the 10 meV grid
  CHECK(c.to_options("x").frequency_stride == 1);
  CHECK(SpectrumRequest::from_json({{"solver_step_eV", 0.045}}).to_options("x").frequency_stride == 4);
  CHECK(SpectrumRequest::from_json({{"solver_step_eV", 0.0}}).to_options("x").frequency_stride == 1);
  try {
    SpectrumRequest::from_json({{"solver_step_eV", 0.2}}).to_options("x");  // above broadening/3 = 0.1 eV
    FAIL("a solver step above broadening/3 accepted");
  } catch (const rung::Error& e) {
    CHECK(std::string(e.what()).find("solver_step_eV") != std::string::npos);
  }
  // the oscillator formula's eta is a full width: its bound is half the Lorentzian's (0.05 eV at 0.3 eV)
  CHECK(SpectrumRequest::from_json({{"solver_step_eV", 0.05}, {"broadening", "oscillator"}})
            .to_options("x")
            .frequency_stride == 5);
  CHECK_THROWS_WITH(
      SpectrumRequest::from_json({{"solver_step_eV", 0.08}, {"broadening", "oscillator"}}).to_options("x"),
      Catch::Matchers::Contains("0.05"));
  // a bad value names its key
  try {
    SpectrumRequest::from_json({{"broadening_eV", -1.0}}).to_options("x");
    FAIL("negative broadening accepted");
  } catch (const rung::Error& e) {
    CHECK(std::string(e.what()).find("broadening_eV") != std::string::npos);
  }
  try {
    SpectrumRequest::from_json({{"block", "4 parsecs"}}).to_options("x");
    FAIL("a bad block accepted");
  } catch (const rung::Error& e) {
    CHECK(std::string(e.what()).find("\"block\"") != std::string::npos);
  }
}

TEST_CASE("requests: the C API's selection keys are the documented ones", "[unit][select][requests]") {
  const auto keys = documented_keys("select");
  const auto code = rung::select::SelectRequest::keys();
  CHECK(keys == std::set<std::string>(code.begin(), code.end()));
  const nlohmann::json values{{"threshold", 0.9},  {"spread_factor", 1.0}, {"max_spread", 0.1}, {"kppa", 1500.0},
                              {"block_cutoff_Ry", 4.0}, {"with_spectra", false}, {"probe", true}, {"launch", "none"},
                              {"outdir", "rung-select"}, {"model", ""}, {"calibration", ""}, {"cost_model", ""},
                              {"log", ""}};
  for (const auto& k : keys) {
    INFO(k);
    REQUIRE(values.contains(k));
    rung_decision* d = nullptr;
    const std::string opts = nlohmann::json{{k, values[k]}}.dump();
    CHECK(rung_decide(0.8, 0.01, opts.c_str(), &d) == RUNG_OK);
    CHECK(rung_decision_free(d) == RUNG_OK);
  }
  rung_decision* d = nullptr;
  CHECK(rung_decide(0.8, 0.01, "{\"treshold\": 0.8}", &d) == RUNG_ERR_USAGE);
  CHECK(last_error().find("\"treshold\"") != std::string::npos);
}

TEST_CASE("requests: the predictor's keys, the CLI's flags and the C API's options", "[unit][select][requests]") {
  using rung::ml::PredictRequest;
  const auto code = PredictRequest::keys();
  std::set<std::string> keys(code.begin(), code.end());
  keys.erase("target");  // `rung predict` only: the C API's handle is a model set and its structures are arrays
  keys.erase("format");
  CHECK(documented_keys("predict") == keys);
  // round trip, validation naming the key
  const auto r = PredictRequest::from_json({{"batch", 8}, {"precision", "float64"}, {"raw", true}, {"target", "rpa"}});
  CHECK(PredictRequest::from_json(r.to_json()).to_json() == r.to_json());
  const auto o = r.predictor_options();
  CHECK(o.batch_size == 8);
  CHECK(o.double_precision);
  CHECK(o.output.is_raw());
  CHECK(r.checked_target() == "rpa");
  CHECK_THROWS_WITH(PredictRequest::from_json({{"precision", "float16"}}).predictor_options(),
                    Catch::Contains("precision"));
  CHECK_THROWS_WITH(PredictRequest::from_json({{"batch", 0}}).predictor_options(), Catch::Contains("batch"));
  CHECK_THROWS_WITH(PredictRequest::from_json({{"target", "gw"}}).checked_target(), Catch::Contains("target"));
  CHECK_THROWS_WITH(PredictRequest::from_json({{"batch", "many"}}), Catch::Contains("\"batch\""));
  CHECK_THROWS_WITH(PredictRequest::from_json({{"modle", ""}}), Catch::Contains("\"modle\""));
  // the C API: an unknown key and the two CLI-only keys are usage errors naming them; a valid key reaches the
  // model loader (which then fails on the missing model folder, an input error)
  rung_model* m = nullptr;
  CHECK(rung_model_load_options("{\"modle\": \"x\"}", &m) == RUNG_ERR_USAGE);
  CHECK(last_error().find("\"modle\"") != std::string::npos);
  CHECK(rung_model_load_options("{\"target\": \"sc\"}", &m) == RUNG_ERR_USAGE);
  CHECK(last_error().find("\"target\"") != std::string::npos);
  CHECK(rung_model_load_options("{\"precision\": \"half\"}", &m) == RUNG_ERR_USAGE);
  CHECK(last_error().find("precision") != std::string::npos);
  const auto status = rung_model_load_options("{\"model\": \"/nonexistent/rung/models\", \"batch\": 4}", &m);
  CHECK((status == RUNG_ERR_INPUT || status == RUNG_ERR_UNAVAILABLE));  // without LibTorch: unavailable
  CHECK(m == nullptr);
}
