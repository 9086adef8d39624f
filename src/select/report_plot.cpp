#include "select/report_plot.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#ifdef RUNG_HAVE_PLPLOT
#include <plstream.h>
#endif

namespace rung::select {

#ifndef RUNG_HAVE_PLPLOT
bool have_plots() { return false; }
void plot_validation(const ValidationReport&, const std::filesystem::path&, const PlotOptions&) {
  fail_unavailable("rung was built without PLplot: plots are not available");
}
void plot_dataset(const dataset::DatasetFigure&, const std::filesystem::path&) {
  fail_unavailable("rung was built without PLplot: plots are not available");
}
void plot_decisions(const DecisionFigure&, const std::filesystem::path&) {
  fail_unavailable("rung was built without PLplot: plots are not available");
}
#else
bool have_plots() { return true; }

namespace {

// Colour map 0 indices after set_palette().
enum Colour { white = 0, black = 1, computed_colour = 2, predicted_colour = 3, grid_colour = 4, hist_fill = 5,
              median_colour = 6, quartile_fill = 7 };

void set_palette(plstream& pls) {
  pls.scol0(white, 255, 255, 255);
  pls.scol0(black, 30, 30, 30);
  pls.scol0(computed_colour, 20, 20, 20);
  pls.scol0(predicted_colour, 214, 39, 40);
  pls.scol0(grid_colour, 200, 200, 200);
  pls.scol0(hist_fill, 31, 119, 180);
  pls.scol0(median_colour, 214, 39, 40);
  pls.scol0(quartile_fill, 255, 200, 120);
}

void legend(plstream& pls, const char* a, const char* b) {
  PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE};
  PLINT text_colours[2] = {black, black};
  const char* text[2] = {a, b};
  PLINT line_colours[2] = {computed_colour, predicted_colour};
  PLINT line_styles[2] = {1, 2};
  PLFLT line_widths[2] = {2.0, 2.0};
  PLFLT w = 0, h = 0;
  pls.legend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT |
             PL_POSITION_INSIDE, 0.02, 0.03, 0.12, white, grid_colour, 1, 0, 0, 2, opt, 0.8, 0.75, 1.6, 0.0,
             text_colours, text, nullptr, nullptr, nullptr, nullptr, line_colours, line_styles, line_widths,
             nullptr, nullptr, nullptr, nullptr);
}

void spectrum_panel(plstream& pls, const ValidationEntry& e, const std::string& tag) {
  double ymax = 0;
  for (double v : e.computed) ymax = std::max(ymax, v);
  for (double v : e.predicted) ymax = std::max(ymax, v);
  double ymin = 0;
  for (double v : e.computed) ymin = std::min(ymin, v);
  for (double v : e.predicted) ymin = std::min(ymin, v);
  if (ymax <= ymin) ymax = ymin + 1;
  pls.adv(0);
  pls.vpor(0.17, 0.95, 0.16, 0.87);
  pls.wind(e.energy_eV.front(), e.energy_eV.back(), ymin, ymax * 1.08);
  pls.col0(grid_colour);
  pls.width(0.5);
  pls.box("g", 0, 0, "g", 0, 0);
  pls.col0(black);
  pls.width(1.0);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  const int n = int(e.energy_eV.size());
  pls.width(2.0);
  pls.col0(computed_colour);
  pls.lsty(1);
  pls.line(n, e.energy_eV.data(), e.computed.data());
  pls.col0(predicted_colour);
  pls.lsty(2);
  pls.line(n, e.energy_eV.data(), e.predicted.data());
  pls.lsty(1);
  pls.width(1.0);
  pls.col0(black);
  pls.lab("Energy (eV)", "Im #ge", fmt::format("{}   SC = {:.3f}{}", e.name, e.distance.sc, tag).c_str());
  legend(pls, "computed", "predicted");
}

// Histogram bars of `counts` over [lo, hi], filled and outlined.
void draw_bars(plstream& pls, const std::vector<double>& counts, double lo, double hi) {
  const double bw = (hi - lo) / double(counts.size());
  for (std::size_t b = 0; b < counts.size(); ++b) {
    if (counts[b] <= 0) continue;
    PLFLT x[5] = {lo + b * bw, lo + (b + 1) * bw, lo + (b + 1) * bw, lo + b * bw, lo + b * bw};
    PLFLT y[5] = {0, 0, counts[b], counts[b], 0};
    pls.col0(hist_fill);
    pls.fill(4, x, y);
    pls.col0(black);
    pls.line(5, x, y);
  }
}

void sc_panel(plstream& pls, const ValidationReport& r) {
  std::vector<double> sc;
  for (const auto& e : r.entries) sc.push_back(e.distance.sc);
  // Range: from a round number below the lowest SC (at least 0.2 wide) to 1.
  const double hi = 1.0;
  double lo = std::floor((*std::min_element(sc.begin(), sc.end()) - 0.02) * 20) / 20;
  lo = std::max(-1.0, std::min(lo, hi - 0.2));
  const int bins = 20;
  std::vector<double> counts(bins, 0);
  for (double v : sc) counts[std::clamp(int((v - lo) / (hi - lo) * bins), 0, bins - 1)] += 1;
  const double cmax = *std::max_element(counts.begin(), counts.end());
  const double ytop = std::ceil(cmax * 1.35 + 0.5);
  const double xtick = hi - lo <= 0.3 ? 0.05 : hi - lo <= 0.6 ? 0.1 : 0.2;
  const double ytick = std::max(1.0, std::ceil(ytop / 6));
  pls.adv(0);
  pls.vpor(0.17, 0.95, 0.16, 0.87);
  pls.wind(lo, hi, 0, ytop);
  // Inter-quartile band behind the bars.
  pls.col0(quartile_fill);
  PLFLT qx[4] = {r.sc.q1, r.sc.q3, r.sc.q3, r.sc.q1}, qy[4] = {0, 0, ytop, ytop};
  if (r.sc.q3 > r.sc.q1) pls.fill(4, qx, qy);
  draw_bars(pls, counts, lo, hi);
  pls.col0(median_colour);
  pls.width(2.5);
  PLFLT mx[2] = {r.sc.median, r.sc.median}, my[2] = {0, ytop};
  pls.line(2, mx, my);
  pls.width(1.0);
  pls.col0(black);
  pls.box("bcnst", xtick, 2, "bcnstv", ytick, 0);
  pls.lab("SC (predicted vs computed)", "materials", fmt::format("SC distribution, {} materials", r.sc.n).c_str());

  const std::string med = fmt::format("median {:.3f}", r.sc.median);
  const std::string iqr = fmt::format("quartiles {:.3f} - {:.3f}", r.sc.q1, r.sc.q3);
  PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_COLOR_BOX};
  PLINT text_colours[2] = {black, black};
  const char* text[2] = {med.c_str(), iqr.c_str()};
  PLINT box_colours[2] = {0, quartile_fill}, box_patterns[2] = {0, 0};
  PLFLT box_scales[2] = {0.8, 0.8}, box_widths[2] = {1, 1};
  PLINT line_colours[2] = {median_colour, 0}, line_styles[2] = {1, 1};
  PLFLT line_widths[2] = {2.5, 1};
  PLFLT w = 0, h = 0;
  pls.legend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_LEFT |
             PL_POSITION_INSIDE, 0.02, 0.03, 0.08, white, grid_colour, 1, 0, 0, 2, opt, 0.8, 0.75, 1.6, 0.0,
             text_colours, text, box_colours, box_patterns, box_scales, box_widths, line_colours, line_styles,
             line_widths, nullptr, nullptr, nullptr, nullptr);
}

// PLplot's cairo device for a .png or .svg file name; anything else is a usage error.
const char* cairo_device(const std::filesystem::path& file) {
  const std::string ext = lower(file.extension().string());
  const char* device = ext == ".png" ? "pngcairo" : ext == ".svg" ? "svgcairo" : nullptr;
  if (!device) fail_usage("--plot: the file must end in .png or .svg, not '" + file.string() + "'");
  return device;
}

// A histogram of `values` on [lo, hi] with a median line; an empty set gets an empty frame saying so.
void histogram_panel(plstream& pls, std::vector<double> values, double lo, double hi, const std::string& xlabel,
                     const std::string& title) {
  pls.adv(0);
  pls.vpor(0.17, 0.95, 0.14, 0.88);
  const int bins = 20;
  std::vector<double> counts(bins, 0);
  for (double v : values) counts[std::clamp(int((v - lo) / (hi - lo) * bins), 0, bins - 1)] += 1;
  const double cmax = values.empty() ? 1 : *std::max_element(counts.begin(), counts.end());
  const double ytop = std::ceil(cmax * 1.2 + 0.5);
  pls.wind(lo, hi, 0, ytop);
  draw_bars(pls, counts, lo, hi);
  std::string t = fmt::format("{}: {}", title, values.size());
  if (!values.empty()) {
    std::sort(values.begin(), values.end());
    const double med = values[values.size() / 2];
    pls.col0(median_colour);
    pls.width(2.5);
    PLFLT mx[2] = {med, med}, my[2] = {0, ytop};
    pls.line(2, mx, my);
    pls.width(1.0);
    t += fmt::format(", median {:.3f}", med);  // the red line
  }
  pls.col0(black);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  pls.lab(xlabel.c_str(), "materials", t.c_str());
}

void cost_panel(plstream& pls, const dataset::DatasetFigure& f) {
  pls.adv(0);
  pls.vpor(0.2, 0.95, 0.14, 0.88);
  double xmax = 1, ymin = 1e9, ymax = 1e-9;
  for (const auto* set : {&f.full_cost, &f.lite_cost})
    for (const auto& [a, c] : *set) {
      xmax = std::max(xmax, a);
      ymin = std::min(ymin, std::max(c, 1e-3));
      ymax = std::max(ymax, std::max(c, 1e-3));
    }
  if (ymin > ymax) ymin = 0.1, ymax = 10;
  const double l0 = std::floor(std::log10(ymin)), l1 = std::ceil(std::log10(ymax) + 1e-9);
  pls.wind(0.5, xmax + 0.5, l0, std::max(l1, l0 + 1));
  pls.col0(grid_colour);
  pls.width(0.5);
  pls.box("g", 1, 0, "g", 1, 0);
  pls.col0(black);
  pls.width(1.0);
  pls.box("bcnst", 1, 0, "bcnstvl", 0, 0);
  const auto points = [&](const std::vector<std::pair<double, double>>& set, int colour, double shift, int symbol) {
    std::vector<PLFLT> x, y;
    for (std::size_t i = 0; i < set.size(); ++i) {
      // a small deterministic spread keeps materials of one cell size apart
      x.push_back(set[i].first + shift + 0.12 * (double(i % 7) / 6.0 - 0.5));
      y.push_back(std::log10(std::max(set[i].second, 1e-3)));
    }
    pls.col0(colour);
    if (!x.empty()) pls.poin(int(x.size()), x.data(), y.data(), symbol);
  };
  points(f.full_cost, hist_fill, -0.15, 17);
  points(f.lite_cost, predicted_colour, 0.15, 4);
  pls.col0(black);
  pls.lab("atoms in the cell", "CPU minutes per material",
          fmt::format("full tier (dots) {}, lite (circles) {}", f.full_cost.size(), f.lite_cost.size()).c_str());
}

}  // namespace

void plot_dataset(const dataset::DatasetFigure& f, const std::filesystem::path& file) {
  const char* device = cairo_device(file);
  AtomicOutput out(file);
  {
    plstream pls;
    pls.sdev(device);
    pls.sfnam(out.temp_path().c_str());
    pls.spage(0, 0, 1800, 560, 0, 0);
    set_palette(pls);
    pls.sfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    pls.ssub(3, 1);
    pls.init();
    pls.schr(0, 0.8);
    double lo = 0.3;
    for (double v : f.sc_ipa_rpa) lo = std::min(lo, std::floor(v * 10) / 10);
    histogram_panel(pls, f.sc_ipa_rpa, std::max(lo, -1.0), 1.0, "SC(IPA, RPA)", "SC(IPA, RPA)");
    cost_panel(pls, f);
    double llo = 0.5;
    for (double v : f.sc_lite_full) llo = std::min(llo, std::floor(v * 10) / 10);
    histogram_panel(pls, f.sc_lite_full, std::max(llo, -1.0), 1.0, "SC(lite, full IPA)", "SC(lite, full IPA)");
  }
  std::error_code ec;
  if (std::filesystem::file_size(out.temp_path(), ec) == 0 || ec)
    fail("PLplot wrote no image to " + out.temp_path().string());
  out.commit();
}

void plot_decisions(const DecisionFigure& f, const std::filesystem::path& file) {
  if (f.points.empty()) fail_usage("nothing to plot: no decisions");
  const char* device = cairo_device(file);
  bool vs_computed = true;
  double lo = f.threshold, hi = 1.0;
  for (const auto& p : f.points) {
    vs_computed = vs_computed && p.computed.has_value();
    lo = std::min({lo, p.lower, p.computed.value_or(p.lower)});
  }
  lo = std::max(-1.0, std::floor(lo * 20 - 0.5) / 20);
  const int n = int(f.points.size());
  AtomicOutput out(file);
  {
    plstream pls;
    pls.sdev(device);
    pls.sfnam(out.temp_path().c_str());
    pls.spage(0, 0, vs_computed ? 900 : std::clamp(160 + 40 * n, 700, 2000), vs_computed ? 860 : 600, 0, 0);
    set_palette(pls);
    pls.sfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    pls.init();
    pls.schr(0, 0.8);
    pls.adv(0);
    pls.vpor(0.12, 0.96, vs_computed ? 0.1 : 0.22, 0.92);
    const double x0 = vs_computed ? lo : 0.5, x1 = vs_computed ? hi : n + 0.5;
    pls.wind(x0, x1, lo, hi);
    pls.col0(grid_colour);
    pls.width(0.5);
    pls.box("g", 0, 0, "g", 0, 0);
    pls.width(1.0);
    pls.col0(black);
    pls.box(vs_computed ? "bcnst" : "bc", 0, 0, "bcnstv", 0, 0);
    // the threshold (and, against computed SCs, the diagonal and the threshold on x)
    pls.col0(median_colour);
    pls.lsty(2);
    PLFLT tx[2] = {x0, x1}, ty[2] = {f.threshold, f.threshold};
    pls.line(2, tx, ty);
    if (vs_computed) {
      PLFLT vx[2] = {f.threshold, f.threshold}, vy[2] = {lo, hi};
      pls.line(2, vx, vy);
      pls.lsty(1);
      pls.col0(grid_colour);
      PLFLT dx[2] = {lo, hi}, dy[2] = {lo, hi};
      pls.line(2, dx, dy);
    }
    pls.lsty(1);
    for (int i = 0; i < n; ++i) {
      const auto& p = f.points[std::size_t(i)];
      const PLFLT x = vs_computed ? *p.computed : i + 1.0;
      PLFLT xs[1] = {x}, ys[1] = {p.sc}, ymin[1] = {p.lower}, ymax[1] = {p.upper};
      pls.col0(p.series == "qe-probe" ? predicted_colour : hist_fill);
      pls.erry(1, xs, ymin, ymax);
      pls.poin(1, xs, ys, p.series == "qe-probe" ? 17 : 4);
      if (!vs_computed) {
        pls.col0(black);
        pls.mtex("bv", 0.5, (x - x0) / (x1 - x0), 1.0, p.name.c_str());  // the name, upright, below the axis
      }
    }
    pls.col0(black);
    pls.lab(vs_computed ? "computed SC(IPA, RPA)" : "", "predicted SC(IPA, RPA)",
            (f.title + fmt::format(": threshold {:.2f} dashed, QE probe red, model blue", f.threshold)).c_str());
  }
  std::error_code ec;
  if (std::filesystem::file_size(out.temp_path(), ec) == 0 || ec)
    fail("PLplot wrote no image to " + out.temp_path().string());
  out.commit();
}

void plot_validation(const ValidationReport& report, const std::filesystem::path& file, const PlotOptions& o) {
  if (report.entries.empty()) fail_usage("nothing to plot: no materials were validated");
  const char* device = cairo_device(file);

  // Which materials get a spectrum panel: all, or the lowest and highest SC.
  std::vector<std::size_t> order(report.entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::pair<std::size_t, std::string>> shown;
  const std::size_t max_panels = std::size_t(std::max(1, o.max_spectrum_panels));
  if (order.size() <= max_panels) {
    for (auto i : order) shown.push_back({i, ""});
  } else {
    std::sort(order.begin(), order.end(), [&](auto a, auto b) {
      return report.entries[a].distance.sc < report.entries[b].distance.sc;
    });
    const std::size_t low = max_panels / 2, high = max_panels - low;
    for (std::size_t k = 0; k < low; ++k) shown.push_back({order[k], "  (lowest SC)"});
    for (std::size_t k = order.size() - high; k < order.size(); ++k) shown.push_back({order[k], "  (highest SC)"});
  }
  const bool with_histogram = report.entries.size() > 1;
  const int panels = int(shown.size()) + (with_histogram ? 1 : 0);
  const int cols = panels == 1 ? 1 : panels <= 4 ? 2 : 3;
  const int rows = (panels + cols - 1) / cols;
  const int width = panels == 1 ? std::min(o.width_px, 1000) : o.width_px;
  const int height = rows * (panels == 1 ? 650 : 440);

  AtomicOutput out(file);
  {
    plstream pls;
    pls.sdev(device);
    pls.sfnam(out.temp_path().c_str());
    pls.spage(0, 0, width, height, 0, 0);
    set_palette(pls);
    pls.sfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    pls.ssub(cols, rows);
    pls.init();
    pls.schr(0, panels == 1 ? 0.9 : 0.8);
    for (const auto& [i, tag] : shown) spectrum_panel(pls, report.entries[i], tag);
    if (with_histogram) sc_panel(pls, report);
  }  // plstream's destructor ends the plot and closes the file
  std::error_code ec;
  if (std::filesystem::file_size(out.temp_path(), ec) == 0 || ec)
    fail("PLplot wrote no image to " + out.temp_path().string());
  out.commit();
}
#endif

}  // namespace rung::select
