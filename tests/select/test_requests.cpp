// One vocabulary for the solver's options: the canonical keys of response::SpectrumRequest are the ones
// rung.h documents (parsed from the header itself), every one is accepted, an unknown key is refused with
// its name, JSON round-trips, and the C API's selection keys are exactly the documented ones too.
#include "capi/rung.h"
#include "core/error.hpp"
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

TEST_CASE("requests: rung.h documents exactly the solver's keys, each accepted", "[select][requests]") {
  auto keys = SpectrumRequest::keys();
  std::set<std::string> code(keys.begin(), keys.end());
  code.erase("theory");  // the C API's argument
  CHECK(documented_keys("spectrum") == code);
  // every key, with a valid value, is accepted through the JSON reader the C API uses
  const auto defaults = SpectrumRequest{}.to_json();
  for (const auto& k : keys) {
    nlohmann::json j = nlohmann::json::object();
    j[k] = defaults.contains(k) ? defaults[k] : nlohmann::json(true);  // `converge` is unset by default
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

TEST_CASE("requests: JSON round trip and the solver's options", "[select][requests]") {
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

TEST_CASE("requests: the C API's selection keys are the documented ones", "[select][requests]") {
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
