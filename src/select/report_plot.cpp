#include "select/report_plot.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "core/text.hpp"
#include "io/spectra/file.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <fmt/format.h>
#include <numeric>

#ifdef RUNG_HAVE_PLPLOT
#include <plstream.h>
#endif

namespace rung::select {

namespace {

// PLplot's text for an optical constant's label and unit ("cm^-1" -> "cm#u-1#d", eps -> #ge).
std::string plot_text(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"^-1", "#u-1#d"}, {"alpha", "#ga"}, {"eps", "#ge"}}) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  }
  return s;
}

// PLplot's cairo device for a .png or .svg file name; anything else is a usage error.
const char* figure_device(const std::filesystem::path& file) {
  const std::string ext = lower(file.extension().string());
  const char* device = ext == ".png" ? "pngcairo" : ext == ".svg" ? "svgcairo" : nullptr;
  if (!device) fail_usage("a figure's file must end in .png or .svg, not '" + file.string() + "'");
  return device;
}

}  // namespace

void check_figure_path(const std::filesystem::path& file) {
  figure_device(file);
  check_output_path(file);
  if (!have_plots()) fail_unavailable("rung was built without PLplot: plots are not available (" + file.string() + ")");
}

std::vector<LinePanel> spectra_panels(const std::vector<std::filesystem::path>& files, const SpectraPlotOptions& o) {
  if (files.empty()) fail_usage("nothing to plot: no spectrum files");
  if (!o.labels.empty() && o.labels.size() != files.size())
    fail_usage(fmt::format("{} labels for {} files: give one label per file", o.labels.size(), files.size()));
  std::vector<std::string> quantities;
  for (const auto& q : o.quantities) {
    if (q == "eps") quantities.insert(quantities.end(), {"im", "re"});
    else if (q == "all") {
      quantities.insert(quantities.end(), {"im", "re"});
      for (const auto& c : optical_constant_names()) quantities.push_back(c.name);
    } else quantities.push_back(q);
  }
  if (quantities.empty()) fail_usage("nothing to plot: no quantity");
  std::vector<LinePanel> panels;
  for (const auto& q : quantities) {
    LinePanel p;
    p.xlabel = "Energy (eV)";
    if (q == "im") p.ylabel = "Im #ge";
    else if (q == "re") p.ylabel = "Re #ge";
    else {
      const auto& names = optical_constant_names();
      const auto it = std::find_if(names.begin(), names.end(), [&](const auto& c) { return q == c.name; });
      if (it == names.end())
        fail_usage(fmt::format("unknown quantity '{}' (im, re, eps, n, k, reflectivity, absorption_cm, loss, all)", q));
      p.ylabel = plot_text(it->label) + (*it->unit ? fmt::format(" ({})", plot_text(it->unit)) : "");
    }
    p.title = o.title.empty() ? p.ylabel : o.title;
    panels.push_back(std::move(p));
  }
  for (std::size_t f = 0; f < files.size(); ++f) {
    Spectrum s = read_any_spectrum(files[f], o.component);
    if (s.meta("observable") == "eel") {
      // YAMBO's eel files hold eel = -1/eps (and -1/eps_o)
      for (auto& z : s.eps) z = -1.0 / z;
      if (s.eps_nolf)
        for (auto& z : *s.eps_nolf) z = -1.0 / z;
    }
    std::string label = o.labels.empty() ? files[f].filename().string() : o.labels[f];
    if (o.labels.empty() && !s.meta("component").empty() && s.meta("format") == spectrum_file_format)
      label += " " + s.meta("component");
    std::vector<std::pair<std::string, const std::vector<std::complex<double>>*>> series = {{label, &s.eps}};
    if (o.nolf && s.eps_nolf) series.push_back({label + " (no local fields)", &*s.eps_nolf});
    for (const auto& [name, eps] : series) {
      const auto oc = optical_constants(s.energy_eV, *eps);
      for (std::size_t k = 0; k < quantities.size(); ++k) {
        std::vector<double> y(eps->size());
        const auto& q = quantities[k];
        if (q == "im" || q == "re")
          for (std::size_t i = 0; i < y.size(); ++i) y[i] = q == "im" ? (*eps)[i].imag() : (*eps)[i].real();
        else y = optical_constant(oc, q);
        panels[k].curves.push_back({name, s.energy_eV, std::move(y), 0});
      }
    }
  }
  return panels;
}

LinePanel table_panel(const std::filesystem::path& file) {
  require_exists(file);
  std::ifstream in(file);
  if (!in) fail_input(file, "cannot be opened");
  LinePanel p;
  p.y_from_data = true;
  std::string line;
  bool header = false;
  for (int number = 1; std::getline(in, line); ++number) {
    if (trim_view(line).empty() || trim_view(line).front() == '#') continue;
    std::vector<std::string> fields;
    for (std::size_t start = 0;;) {
      const auto tab = line.find('\t', start);
      fields.push_back(trim(std::string_view(line).substr(start, tab == std::string::npos ? tab : tab - start)));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 3)
      fail_input(file, fmt::format("line {}: {} tab-separated fields where a table of points has 3 (series, x, y)",
                                   number, fields.size()));
    if (!header) {
      p.xlabel = fields[1], p.ylabel = fields[2], header = true;
      continue;
    }
    double xy[2];
    for (int k = 0; k < 2; ++k)
      if (!parse_number(fields[std::size_t(k + 1)], xy[k]))
        fail_input(file, fmt::format("line {}: '{}' is not a finite number", number, fields[std::size_t(k + 1)]));
    auto it = std::find_if(p.curves.begin(), p.curves.end(), [&](const LineCurve& c) { return c.label == fields[0]; });
    if (it == p.curves.end()) {
      p.curves.push_back({fields[0], {}, {}, 1, true});
      it = std::prev(p.curves.end());
    }
    it->x.push_back(xy[0]);
    it->y.push_back(xy[1]);
  }
  if (!header) fail_input(file, "is empty: a table of points needs a header line and at least one point");
  if (p.curves.empty()) fail_input(file, "holds a header but no points");
  return p;
}

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
void plot_lines(const std::vector<LinePanel>&, const std::filesystem::path&) {
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

// Colours of the curves of a line panel, in order (then repeated with other line styles).
constexpr int series_colours[] = {computed_colour, predicted_colour, hist_fill, 8, 9, 10, 11};
constexpr int n_series_colours = int(sizeof(series_colours) / sizeof(series_colours[0]));

void set_series_palette(plstream& pls) {
  pls.scol0(8, 44, 160, 44);    // green
  pls.scol0(9, 148, 103, 189);  // purple
  pls.scol0(10, 255, 127, 14);  // orange
  pls.scol0(11, 23, 190, 207);  // cyan
}

// One panel of curves y(x) overlaid, with a legend naming them: the spectra of `rung validate` and `rung plot`.
void line_panel(plstream& pls, const LinePanel& p) {
  double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
  bool first = true;
  for (const auto& c : p.curves)
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      if (first) {
        xmin = xmax = c.x[i], first = false;
        if (p.y_from_data) ymin = ymax = c.y[i];  // otherwise the axis keeps 0
      }
      xmin = std::min(xmin, c.x[i]);
      xmax = std::max(xmax, c.x[i]);
      ymin = std::min(ymin, c.y[i]);
      ymax = std::max(ymax, c.y[i]);
    }
  if (xmax <= xmin) xmax = xmin + 1;
  if (ymax <= ymin) ymax = ymin + (p.y_from_data ? 0.1 : 1);
  if (p.curves.size() > 0 && p.curves.front().markers) {  // points at the ends must not sit on the frame
    const double dx = 0.04 * (xmax - xmin);
    xmin -= dx, xmax += dx;
  }
  // headroom above the data for the legend (one line per curve) so that it does not cover them
  const double pad = 0.06 * (ymax - ymin), legend_room = 0.075 * double(p.curves.size()) * (ymax - ymin);
  pls.adv(0);
  pls.vpor(0.17, 0.95, 0.16, 0.87);
  const double ylow = p.y_from_data ? ymin - pad : ymin < 0 ? ymin - pad : 0;
  pls.wind(xmin, xmax, ylow, ymax + pad + legend_room);
  pls.col0(grid_colour);
  pls.width(0.5);
  pls.box("g", 0, 0, "g", 0, 0);
  pls.col0(black);
  pls.width(1.0);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  const int n = int(p.curves.size());
  std::vector<PLINT> opt(n, PL_LEGEND_LINE), text_colours(n, black), line_colours(n), line_styles(n);
  std::vector<PLFLT> line_widths(n, 2.0);
  std::vector<const char*> text(n);
  for (int k = 0; k < n; ++k) {
    const auto& c = p.curves[std::size_t(k)];
    line_colours[k] = series_colours[k % n_series_colours];
    line_styles[k] = c.style > 0 ? c.style : 1 + (k / n_series_colours) % 8;
    text[k] = c.label.c_str();
    pls.width(2.0);
    pls.col0(line_colours[k]);
    pls.lsty(line_styles[k]);
    pls.line(int(c.x.size()), c.x.data(), c.y.data());
    if (c.markers) {
      pls.ssym(0, 2.0);
      pls.poin(int(c.x.size()), c.x.data(), c.y.data(), 17);  // 17: a filled circle
      pls.ssym(0, 1.0);
    }
  }
  pls.lsty(1);
  pls.width(1.0);
  pls.col0(black);
  pls.lab(p.xlabel.c_str(), p.ylabel.c_str(), p.title.c_str());
  if (n == 0) return;
  PLFLT w = 0, h = 0;
  pls.legend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT |
             PL_POSITION_INSIDE, 0.02, 0.03, 0.12, white, grid_colour, 1, 0, 0, n, opt.data(), 0.8, 0.75, 1.6, 0.0,
             text_colours.data(), text.data(), nullptr, nullptr, nullptr, nullptr, line_colours.data(),
             line_styles.data(), line_widths.data(), nullptr, nullptr, nullptr, nullptr);
}

// Every figure rung draws goes through here: the cairo device chosen by the extension, rung's palette and
// font, cols x rows panels of a width x height page, `draw` filling them, and the file written atomically.
template <class Draw>
void with_figure(const std::filesystem::path& file, int width, int height, int cols, int rows, double char_scale,
                 Draw&& draw) {
  const char* device = figure_device(file);
  AtomicOutput out(file);
  {
    plstream pls;
    pls.sdev(device);
    pls.sfnam(out.temp_path().c_str());
    pls.spage(0, 0, width, height, 0, 0);
    set_palette(pls);
    set_series_palette(pls);
    pls.sfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    if (cols > 1 || rows > 1) pls.ssub(cols, rows);
    pls.init();
    pls.schr(0, char_scale);
    draw(pls);
  }  // plstream's destructor ends the plot and closes the file
  std::error_code ec;
  if (std::filesystem::file_size(out.temp_path(), ec) == 0 || ec) fail("PLplot wrote no image for " + file.string());
  out.commit();
}

void spectrum_panel(plstream& pls, const ValidationEntry& e, const std::string& tag) {
  LinePanel p;
  p.title = fmt::format("{}   SC = {:.3f}{}", e.name, e.distance.sc, tag);
  p.xlabel = "Energy (eV)";
  p.ylabel = "Im #ge";
  p.curves.push_back({"computed", e.energy_eV, e.computed, 1});
  p.curves.push_back({"predicted", e.energy_eV, e.predicted, 2});
  line_panel(pls, p);
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
  with_figure(file, 1800, 560, 3, 1, 0.8, [&](plstream& pls) {
    double lo = 0.3;
    for (double v : f.sc_ipa_rpa) lo = std::min(lo, std::floor(v * 10) / 10);
    histogram_panel(pls, f.sc_ipa_rpa, std::max(lo, -1.0), 1.0, "SC(IPA, RPA)", "SC(IPA, RPA)");
    cost_panel(pls, f);
    double llo = 0.5;
    for (double v : f.sc_lite_full) llo = std::min(llo, std::floor(v * 10) / 10);
    histogram_panel(pls, f.sc_lite_full, std::max(llo, -1.0), 1.0, "SC(lite, full IPA)", "SC(lite, full IPA)");
  });
}

void plot_decisions(const DecisionFigure& f, const std::filesystem::path& file) {
  if (f.points.empty()) fail_usage("nothing to plot: no decisions");
  bool vs_computed = true;
  double lo = f.threshold, hi = 1.0;
  for (const auto& p : f.points) {
    vs_computed = vs_computed && p.computed.has_value();
    lo = std::min({lo, p.lower, p.computed.value_or(p.lower)});
  }
  lo = std::max(-1.0, std::floor(lo * 20 - 0.5) / 20);
  const int n = int(f.points.size());
  with_figure(file, vs_computed ? 900 : std::clamp(160 + 40 * n, 700, 2000), vs_computed ? 860 : 600, 1, 1, 0.8,
              [&](plstream& pls) {
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
  });
}

void plot_validation(const ValidationReport& report, const std::filesystem::path& file, const PlotOptions& o) {
  if (report.entries.empty()) fail_usage("nothing to plot: no materials were validated");
  figure_device(file);  // a bad extension fails before any work

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

  with_figure(file, width, height, cols, rows, panels == 1 ? 0.9 : 0.8, [&](plstream& pls) {
    for (const auto& [i, tag] : shown) spectrum_panel(pls, report.entries[i], tag);
    if (with_histogram) sc_panel(pls, report);
  });
}

void plot_lines(const std::vector<LinePanel>& panels, const std::filesystem::path& file) {
  if (panels.empty()) fail_usage("nothing to plot: no panels");
  const int n = int(panels.size());
  const int cols = n == 1 ? 1 : 2, rows = (n + cols - 1) / cols;
  with_figure(file, n == 1 ? 1000 : 1600, rows * (n == 1 ? 650 : 520), cols, rows, n == 1 ? 0.9 : 0.8,
              [&](plstream& pls) {
                for (const auto& p : panels) line_panel(pls, p);
              });
}
#endif

}  // namespace rung::select
