// `rung plot`'s panels (select/report_plot.hpp spectra_panels): one per quantity, one curve per file, the values
// those of the files (an eel file turned back into eps), and the figure itself through the one plotting path.
#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "io/spectra/file.hpp"
#include "select/report_plot.hpp"
#include "support/paths.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace rung::select;
namespace fs = std::filesystem;

TEST_CASE("plot: panels per quantity, YAMBO's eel file turned back into eps", "[reference][select][plot]") {
  const auto dir = rung::test::shared_reference() / "yambo-5.2.4" / "Si" / "yambo_sp";
  RUNG_REQUIRE_SHARED(dir / "o-rpa_ng27_x.eel_q1_inv_rpa_dyson");
  const std::vector<fs::path> files = {dir / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson", dir / "o-rpa_ng27_x.eel_q1_inv_rpa_dyson"};
  SpectraPlotOptions o;
  o.quantities = {"eps", "loss"};
  o.labels = {"eps file", "eel file"};
  const auto panels = spectra_panels(files, o);
  REQUIRE(panels.size() == 3);  // im, re, loss
  CHECK(panels[0].ylabel == "Im #ge");
  CHECK(panels[2].ylabel == "loss function -Im(1/#ge)");
  for (const auto& p : panels) {
    REQUIRE(p.curves.size() == 2);
    CHECK(p.curves[0].label == "eps file");
  }
  // The eel file's eps = -1/eel agrees with the eps file where both are well printed: eel has 6 decimals, so
  // its relative precision is ~5e-7/|eel|; where |eel| > 0.01 (the whole range above 2 eV here) 1e-3 relative.
  const auto eel = rung::read_any_spectrum(files[1]);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < eel.size(); ++i) {
    if (std::abs(eel.eps[i]) < 0.01) continue;
    ++checked;
    CHECK(panels[0].curves[1].y[i] == Approx(panels[0].curves[0].y[i]).epsilon(1e-3).margin(1e-3));
  }
  CHECK(checked > 1000);
  // The loss panel of the eps file is YAMBO's own Im(eel) column (1e-6 + 3e-6 relative: printed digits)
  for (std::size_t i = 0; i < eel.size(); ++i)
    CHECK(std::abs(panels[2].curves[0].y[i] - eel.eps[i].imag()) <= 1e-6 + 3e-6 * std::abs(eel.eps[i].imag()));
  if (have_plots()) {
    const auto png = fs::temp_directory_path() / "rung_test_plot.png";
    fs::remove(png);
    plot_lines(panels, png);
    CHECK(fs::file_size(png) > 10000);
    CHECK_THROWS_AS(plot_lines(panels, fs::temp_directory_path() / "rung_test_plot.jpg"), rung::Error);
  }
}

TEST_CASE("plot: bad requests are usage errors", "[unit][select][plot]") {
  SpectraPlotOptions o;
  o.quantities = {"absorbance"};
  CHECK_THROWS_WITH(spectra_panels({"/nonexistent/a.h5"}, o), Catch::Contains("unknown quantity 'absorbance'"));
  o.quantities = {"im"};
  o.labels = {"a", "b"};
  CHECK_THROWS_WITH(spectra_panels({"/nonexistent/a.h5"}, o), Catch::Contains("2 labels for 1 files"));
  o.labels.clear();
  try {
    spectra_panels({"/nonexistent/a.h5"}, o);
    FAIL("a missing file was accepted");
  } catch (const rung::Error& e) {
    CHECK(e.kind() == rung::ErrorKind::input);
  }
}

namespace {
fs::path write_table(const std::string& name, const std::string& text) {
  const auto file = fs::temp_directory_path() / name;
  std::ofstream(file) << text;
  return file;
}
}  // namespace

TEST_CASE("plot: a table of points becomes one curve per series, in order", "[unit][select][plot]") {
  const auto file = write_table("rung_test_table.tsv",
                                "# learning curves\nseries\tN train\ttest median SC\nTL\t50\t0.770\nDL\t50\t0.643\n"
                                "\nTL\t100\t0.767\nDL\t100\t0.715\nIPA as RPA baseline\t50\t0.696\n");
  const auto p = table_panel(file);
  CHECK(p.xlabel == "N train");
  CHECK(p.ylabel == "test median SC");
  CHECK(p.y_from_data);
  REQUIRE(p.curves.size() == 3);
  CHECK(p.curves[0].label == "TL");
  CHECK(p.curves[2].label == "IPA as RPA baseline");  // a label with blanks: fields are tab-separated
  CHECK(p.curves[0].markers);
  REQUIRE(p.curves[1].x.size() == 2);
  CHECK(p.curves[1].x[1] == 100.0);
  CHECK(p.curves[1].y[1] == 0.715);
  if (have_plots()) {
    const auto png = fs::temp_directory_path() / "rung_test_table.png";
    fs::remove(png);
    plot_lines({p}, png);
    CHECK(fs::file_size(png) > 5000);
  }
}

TEST_CASE("plot: a bad table of points names the file and the line", "[unit][select][plot]") {
  auto input_error = [](const fs::path& file, const std::string& what) {
    try {
      table_panel(file);
      FAIL("accepted " + file.string());
    } catch (const rung::Error& e) {
      CHECK(e.kind() == rung::ErrorKind::input);
      CHECK_THAT(e.what(), Catch::Contains(file.filename().string()) && Catch::Contains(what));
    }
  };
  input_error(write_table("rung_test_table_fields.tsv", "series\tx\ty\nTL 50 0.7\n"), "line 2: 1 tab-separated");
  input_error(write_table("rung_test_table_number.tsv", "series\tx\ty\nTL\t50\t0.7x\n"), "line 2: '0.7x' is not");
  input_error(write_table("rung_test_table_nan.tsv", "series\tx\ty\nTL\tnan\t0.7\n"), "'nan' is not a finite");
  input_error(write_table("rung_test_table_empty.tsv", "# nothing\n"), "is empty");
  input_error(write_table("rung_test_table_header.tsv", "series\tx\ty\n"), "no points");
  input_error(fs::temp_directory_path() / "rung_test_no_such_table.tsv", "does not exist");
}
