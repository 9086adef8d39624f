// Predicted spectra carry Re eps and the optical constants (ml/spectrum_output.hpp): `rung predict -o` and --json
// with the shipped IPA model on our own Si (tests/fixtures/si_tiny), checked against core/kramers_kronig.hpp and
// core/optical_constants.hpp applied to the predicted Im eps (float64, so exactly: 1e-12), and the SC target
// without any of it. The shipped model is in the source tree (share/models): nothing from ../shared is needed.
#include <catch2/catch.hpp>

#include "core/kramers_kronig.hpp"
#include "core/optical_constants.hpp"
#include "core/paper.hpp"
#include "io/hdf5_file.hpp"
#include "support/paths.hpp"

#include <algorithm>
#include <complex>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace rung;
namespace fs = std::filesystem;

namespace {

fs::path rung_cli() { return test::binary_dir() / "src" / "cli" / "rung"; }
fs::path si() { return test::source_dir() / "tests" / "fixtures" / "si_tiny" / "scf.in"; }

int run(const std::string& args, const fs::path& out) {
  const std::string cmd = rung_cli().string() + " -q " + args + " > " + out.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What the prediction's Re eps and constants must be: core's functions on the predicted Im eps.
struct Expected {
  std::vector<double> re;
  OpticalConstants oc;
};
Expected expected(const std::vector<double>& e, const std::vector<double>& im) {
  Expected x;
  x.re = kramers_kronig_re_eps(e, causal_im_eps(e, im, paper::broadening_eV));
  std::vector<std::complex<double>> eps(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) eps[i] = {x.re[i], im[i]};
  x.oc = optical_constants(e, eps);
  return x;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
  return d;
}

}  // namespace

TEST_CASE("rung predict -o and --json: Re eps by Kramers-Kronig and n, k, R, alpha, loss for every prediction",
          "[cli][ml][optical]") {
  const fs::path dir = fs::temp_directory_path() / "rung_test_predicted_optics";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "pred.h5", log = dir / "log.txt", json = dir / "pred.json";
  // the same structure twice: two rows of every [n, 2001] dataset
  REQUIRE(run("predict " + si().string() + " " + si().string() + " --precision float64 -o " + out.string(), log) == 0);
  auto f = h5::File::open(out);
  CHECK(f.attr_string("/", "re_eps_source").find("kramers-kronig of the predicted Im eps, 0-20 eV, truncated") == 0);
  const auto e = f.read_double("/energy_eV");
  h5::Dims dims;
  const auto im = f.read_double("/eps_imag", &dims);
  REQUIRE(dims == h5::Dims{2, e.size()});
  const auto re = f.read_double("/eps_real", &dims);
  REQUIRE(dims == h5::Dims{2, e.size()});
  for (std::size_t row = 0; row < 2; ++row) {
    const std::vector<double> im_row(im.begin() + long(row * e.size()), im.begin() + long((row + 1) * e.size()));
    const auto x = expected(e, im_row);
    CHECK(max_diff({re.begin() + long(row * e.size()), re.begin() + long((row + 1) * e.size())}, x.re) < 1e-12);
    for (const auto& c : optical_constant_names()) {
      INFO(c.name);
      const auto v = f.read_double(std::string("/optical/") + c.name, &dims);
      REQUIRE(dims == h5::Dims{2, e.size()});
      CHECK(max_diff({v.begin() + long(row * e.size()), v.begin() + long((row + 1) * e.size())},
                     optical_constant(x.oc, c.name)) < 1e-12);
      if (*c.unit) CHECK(f.attr_string(std::string("/optical/") + c.name, "unit") == c.unit);
    }
  }
  // Si: a transparent, high-index semiconductor at low energy (n(0) = sqrt(Re eps(0)) near 3.7; measured 3.73)
  const auto x = expected(e, {im.begin(), im.begin() + long(e.size())});
  CHECK(x.oc.n[0] > 3.2);
  CHECK(x.oc.n[0] < 4.2);

  // --json: the same numbers per prediction, and where Re eps came from
  REQUIRE(run("predict " + si().string() + " --precision float64 --json", json) == 0);
  const auto j = nlohmann::json::parse(slurp(json));
  CHECK(j.at("re_eps_source").get<std::string>() == f.attr_string("/", "re_eps_source"));
  const auto& p = j.at("predictions").at(0);
  const auto jim = p.at("eps_imag").get<std::vector<double>>();
  CHECK(max_diff(jim, {im.begin(), im.begin() + long(e.size())}) < 1e-12);
  CHECK(max_diff(p.at("eps_real").get<std::vector<double>>(), x.re) < 1e-12);
  for (const auto& c : optical_constant_names())
    CHECK(max_diff(p.at("optical").at(c.name).get<std::vector<double>>(), optical_constant(x.oc, c.name)) < 1e-12);

  // float32 files (the default) hold the same numbers rounded to float32
  const fs::path out32 = dir / "pred32.h5";
  REQUIRE(run("predict " + si().string() + " -o " + out32.string(), log) == 0);
  auto f32 = h5::File::open(out32);
  const auto im32 = f32.read_double("/eps_imag");
  const auto x32 = expected(e, im32);
  // the file's Re eps was computed from the unrounded Im eps and then rounded; the recomputation starts from the
  // rounded Im eps: the two differ by about one float32 rounding of the largest value (1.1e-6 seen on an AVX-512
  // machine, for Re eps up to about 13, where float32's spacing is 9.5e-7), so the bound is 4 float32 epsilons
  // times the largest value (6e-6 there)
  const auto ulps = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::abs(x));
    return 4 * double(std::numeric_limits<float>::epsilon()) * m;
  };
  CHECK(max_diff(f32.read_double("/eps_real"), x32.re) < ulps(x32.re));
  CHECK(max_diff(f32.read_double("/optical/n"), x32.oc.n) < ulps(x32.oc.n));

  // the SC target is a number: no Re eps, no optical constants
  const fs::path sc = dir / "sc.h5";
  REQUIRE(run("predict " + si().string() + " --target sc -o " + sc.string(), log) == 0);
  auto fs_ = h5::File::open(sc);
  CHECK_FALSE(fs_.exists("/eps_real"));
  CHECK_FALSE(fs_.exists("/optical"));
  CHECK_FALSE(fs_.has_attr("/", "re_eps_source"));
  REQUIRE(run("predict " + si().string() + " --target sc --json", json) == 0);
  const auto js = nlohmann::json::parse(slurp(json));
  CHECK_FALSE(js.contains("re_eps_source"));
  CHECK_FALSE(js.at("predictions").at(0).contains("optical"));
  fs::remove_all(dir);
}
