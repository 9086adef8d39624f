// `rung plot`'s panels (select/report_plot.hpp spectra_panels): one per quantity, one curve per file, the values
// those of the files (an eel file turned back into eps), and the figure itself through the one plotting path.
#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "io/spectra/file.hpp"
#include "select/report_plot.hpp"
#include "support/paths.hpp"

#include <cmath>
#include <filesystem>

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
