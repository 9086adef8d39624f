// rung's HDF5 spectrum file: round trip, component selection, refusal of foreign or broken files.
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"
#include "io/summary/summarize.hpp"
#include "io/yambo_test_support.hpp"

#include <cmath>
#include <cstdint>
#include <hdf5.h>

using namespace rung;
using namespace rung::test;

namespace {

Spectrum lorentz(const std::vector<double>& e, double center, double scale, bool with_nolf) {
  Spectrum s;
  s.energy_eV = e;
  for (double w : e) s.eps.emplace_back(1.0 + scale / (1.0 + (w - center) * (w - center)), scale * 0.5 / (1.0 + (w - center) * (w - center)));
  if (with_nolf) {
    s.eps_nolf = s.eps;
    for (auto& z : *s.eps_nolf) z *= 1.2;
  }
  return s;
}

SpectrumSet example_set(bool rpa) {
  SpectrumSet set;
  for (int i = 0; i < 2001; ++i) set.energy_eV.push_back(0.01 * i);
  set.theory = rpa ? "rpa" : "ipa";
  set.provenance = {{"command_line", "rung rpa si.save --ng 27"}, {"inputs", {"si.save"}}, {"eta_eV", 0.3},
                    {"timings_s", {{"chi0", 1.5}}}};
  set.components["x"] = {lorentz(set.energy_eV, 3.7, 30.0, rpa), std::array<double, 3>{1, 0, 0}, "x"};
  set.components["trace"] = {lorentz(set.energy_eV, 3.6, 29.0, rpa), std::nullopt, "mean of xx, yy, zz"};
  set.components[q_component_name({1, 1, 1})] = {lorentz(set.energy_eV, 3.5, 28.0, rpa), std::array<double, 3>{1, 1, 1}, ""};
  return set;
}

}  // namespace

TEST_CASE("q_component_name", "[unit][spectra][file]") {
  CHECK(q_component_name({1, 1, 1}) == "q_1_1_1");
  CHECK(q_component_name({-1, 0, 0}) == "q_-1_0_0");
  CHECK(q_component_name({0.5, 0, 1}) == "q_0.5_0_1");
}

TEST_CASE("direction_name: one name per direction, whatever its length and sign", "[unit][spectra][file]") {
  // eps along q is even in q, so q and -q (and any multiple) are one direction
  CHECK(direction_name({1, 1, 1}) == "q_1_1_1");
  CHECK(direction_name({0.577350259, 0.577350259, 0.577350259}) == "q_1_1_1");  // YAMBO's "@ Q(1)" line
  CHECK(direction_name({-2, -2, -2}) == "q_1_1_1");
  CHECK(direction_name({-1, 0, 0}) == "x");
  CHECK(direction_name({0, -3, 0}) == "y");
  CHECK(direction_name({0, 0, 0.5}) == "z");
  CHECK(direction_name({1, 2, 0}) == "q_0.5_1_0");
  CHECK(direction_name({0.447213595, 0.894427191, 0}) == "q_0.5_1_0");  // (1,2,0) normalised, 9 digits
  CHECK(direction_name({1, -1, 0}) == "q_1_-1_0");                      // the largest component (the first) made +1
  CHECK(direction_name({-1, 1, 0}) == "q_1_-1_0");
  CHECK(direction_name({0.7071068, -0.7071067, 0}) == "q_1_-1_0");  // a tie up to the last printed digit
  CHECK(direction_name({0.7071067, -0.7071068, 0}) == "q_1_-1_0");
  CHECK(direction_name({0, -0.5, 0.5}) == "q_0_1_-1");
  CHECK(direction_name({1, 1, 0}) != direction_name({1, -1, 0}));  // different directions stay apart
  CHECK(canonical_component("q_2_0_0") == "x");
  CHECK(canonical_component("q_-1_-1_-1") == "q_1_1_1");
  CHECK(canonical_component("trace") == "trace");
  CHECK(canonical_component("q_1_1") == "q_1_1");  // no vector: left as it is
}

TEST_CASE("rung spectrum file round trip (RPA with eps_nolf, several components)", "[unit][spectra][file]") {
  ScratchDir dir("spectrum-file");
  const auto set = example_set(true);
  const auto path = dir / "si_rpa.h5";
  write_spectrum_file(path, set);
  // Atomic write: only the final file is left in the directory.
  std::size_t n_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) n_files += e.is_regular_file();
  CHECK(n_files == 1);
  CHECK(is_spectrum_file(path));

  const auto back = read_spectrum_file(path);
  CHECK(back.theory == "rpa");
  CHECK(back.energy_eV == set.energy_eV);
  CHECK(back.provenance == set.provenance);
  CHECK_FALSE(back.rung_version.empty());
  CHECK(back.created.size() == 20);  // 2026-01-01T00:00:00Z
  REQUIRE(back.components.size() == 3);
  for (const auto& [name, c] : set.components) {
    INFO(name);
    const auto& b = back.components.at(name);
    CHECK(b.spectrum.eps == c.spectrum.eps);  // stored as float64: exact
    REQUIRE(b.spectrum.eps_nolf);
    CHECK(*b.spectrum.eps_nolf == *c.spectrum.eps_nolf);
    CHECK(b.description == c.description);
    CHECK(b.q_direction.has_value() == c.q_direction.has_value());
    if (c.q_direction) CHECK(*b.q_direction == *c.q_direction);
  }
  // Layout as documented (read with the plain HDF5 wrapper).
  const auto f = h5::File::open(path);
  CHECK(f.attr_string("/", "format") == "rung-spectrum");
  CHECK(f.attr_int("/", "format_version") == 1);
  CHECK(f.exists("/energy_eV"));
  CHECK(f.exists("/x/eps"));
  CHECK(f.exists("/x/eps_nolf"));
  CHECK(f.attr_string("/x", "q_direction").rfind("1 0 0", 0) == 0);

  // read_any_spectrum: the trace by default, any component on request.
  const auto tr = read_any_spectrum(path);
  CHECK(tr.eps == set.components.at("trace").spectrum.eps);
  CHECK(read_any_spectrum(path, "q_1_1_1").eps == set.components.at("q_1_1_1").spectrum.eps);
  // the same direction under another name: found (eps along q is even in q)
  CHECK(read_any_spectrum(path, "q_-2_-2_-2").eps == set.components.at("q_1_1_1").spectrum.eps);
  CHECK(read_any_spectrum(path, "q_3_0_0").eps == set.components.at("x").spectrum.eps);
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(path, "y"), path);
}

TEST_CASE("rung spectrum file: IPA without eps_nolf, and component choice without a trace", "[unit][spectra][file]") {
  ScratchDir dir("spectrum-file-ipa");
  auto set = example_set(false);
  set.components.erase("trace");
  write_spectrum_file(dir / "ipa.h5", set);
  const auto back = read_spectrum_file(dir / "ipa.h5");
  CHECK(back.theory == "ipa");
  CHECK_FALSE(back.components.at("x").spectrum.eps_nolf);
  // Two components and no trace: the caller must choose.
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "ipa.h5"), "ipa.h5");
  CHECK(read_any_spectrum(dir / "ipa.h5", "x").size() == 2001);
  set.components.erase("q_1_1_1");
  write_spectrum_file(dir / "ipa_x.h5", set);
  CHECK(read_any_spectrum(dir / "ipa_x.h5").metadata.at("component") == "x");
}

TEST_CASE("rung spectrum file: the writer refuses bad data, the reader foreign files", "[unit][spectra][file][bad]") {
  ScratchDir dir("spectrum-file-bad");
  auto set = example_set(false);
  set.components.at("x").spectrum.eps[10] = {std::nan(""), 0.0};
  CHECK_THROWS_AS(write_spectrum_file(dir / "nan.h5", set), rung::Error);
  CHECK_FALSE(std::filesystem::exists(dir / "nan.h5"));
  set = example_set(false);
  set.theory = "gw";
  CHECK_THROWS_AS(write_spectrum_file(dir / "gw.h5", set), rung::Error);
  set = example_set(false);
  set.components.at("x").spectrum.energy_eV.pop_back();
  CHECK_THROWS_AS(write_spectrum_file(dir / "grid.h5", set), rung::Error);
  set = example_set(false);
  set.components["bad/name"] = set.components.at("x");
  CHECK_THROWS_AS(write_spectrum_file(dir / "name.h5", set), rung::Error);

  // An HDF5 file that is not a rung spectrum file.
  {
    auto f = h5::File::create(dir / "other.h5");
    f.write("/energy_eV", std::vector<double>{0, 1, 2});
  }
  CHECK_FALSE(is_spectrum_file(dir / "other.h5"));
  RUNG_CHECK_INPUT_ERROR(read_spectrum_file(dir / "other.h5"), "other.h5");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "other.h5"), "other.h5");
  // A newer format version.
  {
    auto f = h5::File::create(dir / "future.h5");
    f.set_attr("/", "format", std::string("rung-spectrum"));
    f.set_attr("/", "format_version", std::int64_t(99));
  }
  RUNG_CHECK_INPUT_ERROR(read_spectrum_file(dir / "future.h5"), "future.h5");
  // A truncated rung spectrum file.
  write_spectrum_file(dir / "good.h5", example_set(true));
  copy_truncated(dir / "good.h5", dir / "cut.h5", std::filesystem::file_size(dir / "good.h5") / 2);
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "cut.h5"), "cut.h5");
}

TEST_CASE("HDF5 attributes holding several values are refused, not read into one", "[unit][spectra][hdf5]") {
  ScratchDir dir("h5-array-attr");
  const auto p = dir / "array_attr.h5";
  h5::File::create(p).set_attr("/", "one", 1.5);
  {  // two-element double, int64 and string attributes on the root, with the C API (the wrapper writes scalars)
    const hid_t file = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hsize_t two[1] = {2};
    const hid_t space = H5Screate_simple(1, two, nullptr);
    const double d[2] = {1.0, 2.0};
    const hid_t ad = H5Acreate2(file, "pair", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(ad, H5T_NATIVE_DOUBLE, d) >= 0);
    H5Aclose(ad);
    const std::int64_t n[2] = {3, 4};
    const hid_t ai = H5Acreate2(file, "ints", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(ai, H5T_NATIVE_INT64, n) >= 0);
    H5Aclose(ai);
    const hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    const char* strs[2] = {"rung-spectrum", "other"};
    const hid_t as = H5Acreate2(file, "strings", st, space, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(as, st, strs) >= 0);
    H5Aclose(as);
    H5Tclose(st);
    H5Sclose(space);
    H5Fclose(file);
  }
  const auto f = h5::File::open(p);
  CHECK(f.attr_double("/", "one") == 1.5);
  CHECK(f.has_attr("/", "pair"));
  RUNG_CHECK_INPUT_ERROR(f.attr_double("/", "pair"), p);
  RUNG_CHECK_INPUT_ERROR(f.attr_int("/", "ints"), p);
  RUNG_CHECK_INPUT_ERROR(f.attr_string("/", "strings"), p);
  CHECK_THROWS_WITH(f.attr_double("/", "pair"), Catch::Contains("'pair'") && Catch::Contains("2 values"));
  CHECK_THROWS_WITH(f.attr_int("/", "ints"), Catch::Contains("'ints'"));
  CHECK_THROWS_WITH(f.attr_string("/", "strings"), Catch::Contains("'strings'"));
}

TEST_CASE("rung info on a file whose JSON attribute is not JSON fails, naming the file and the attribute",
          "[unit][spectra][hdf5]") {
  ScratchDir dir("h5-bad-json");
  const auto p = dir / "bad_json.h5";
  {
    auto f = h5::File::create(p);
    f.set_attr("/", "format", std::string("rung-model"));
    f.set_attr("/", "format_version", std::int64_t(1));
    f.set_attr("/", "metrics", std::string("{\"sc\": 0.9"));  // cut: not valid JSON
  }
  RUNG_CHECK_INPUT_ERROR(summarize_rung_file(p), p);
  CHECK_THROWS_WITH(summarize_rung_file(p), Catch::Contains("attribute 'metrics' is not valid JSON"));
  {
    auto f = h5::File::open(p, true);
    f.set_attr("/", "metrics", std::string("{\"sc\": 0.9}"));
  }
  CHECK(summarize_rung_file(p).at("metrics").at("sc").get<double>() == 0.9);
}
