#pragma once
// Every figure rung draws, through one path (report_plot.cpp's with_figure: PLplot's cairo driver, png or
// svg chosen by the file extension, rung's palette, written atomically) and one kind of curve panel
// (LinePanel) for spectra. `rung validate --plot`:
//   - panels with the predicted and the computed Im eps overlaid, one per material (for large sets:
//     the lowest-SC and the highest-SC materials, labelled as such), each titled with its SC;
//   - a last panel with the SC distribution: histogram, median and quartiles.
// Written atomically (temp file + rename).
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataset/factory.hpp"
#include "select/validation.hpp"

namespace rung::select {

struct PlotOptions {
  int max_spectrum_panels = 8;  // for more materials: half lowest SC, half highest SC
  int width_px = 1600;          // the height follows from the number of panel rows
};

// True when rung was built with PLplot.
bool have_plots();
// What drawing a figure to `file` needs, for a command to check right after parsing, before any work: a name ending
// in .png or .svg (fail_usage), an output that can be written (core/atomic_output.hpp check_output_path), and a rung
// built with PLplot (FeatureUnavailable). Every plot_* function below makes the first two checks itself.
void check_figure_path(const std::filesystem::path& file);
// fail_usage for an extension other than .png/.svg; rung::Error when rung has no PLplot.
void plot_validation(const ValidationReport& report, const std::filesystem::path& file,
                     const PlotOptions& options = {});

// The figure of `rung dataset stats --plot` (dataset::DatasetFigure: what it shows).
void plot_dataset(const dataset::DatasetFigure& figure, const std::filesystem::path& file);

// The figure of decisions: each material's SC with its interval against the threshold. With computed SCs
// (`rung calibrate --plot`, a data set's validation and test materials) predicted against computed, the
// diagonal and the threshold on both axes, so that a wrong decision sits in an off-diagonal quadrant;
// without (`rung select --plot`) one column per material. Series: "qe-probe" (red) and "model" (blue).
struct DecisionFigure {
  struct Point {
    std::string name, series;
    double sc = 0, lower = 0, upper = 0;
    std::optional<double> computed;
  };
  std::vector<Point> points;
  double threshold = 0.9;
  std::string title;
};
void plot_decisions(const DecisionFigure& figure, const std::filesystem::path& file);

// Curves y(x) overlaid in one panel, with a legend (the spectra of `rung validate` and `rung plot`).
struct LineCurve {
  std::string label;
  std::vector<double> x, y;
  int style = 0;         // PLplot line style 1-8; 0 = by position
  bool markers = false;  // also a symbol at each point (few points: a learning curve)
};
struct LinePanel {
  std::string title, xlabel, ylabel;  // PLplot text escapes allowed (#ge = epsilon, #u..#d = superscript)
  std::vector<LineCurve> curves;
  bool y_from_data = false;  // the y axis spans the data (with a margin) instead of starting at 0
};
// A panel from a table of points (`rung plot --table`): a text file whose first line names its three
// tab-separated columns "series<TAB>x name<TAB>y name" and whose other lines are points "series<TAB>x<TAB>y"
// ('#' starts a comment line). One curve with markers per series, in order of first appearance, its points in
// the order given; the axes are labelled with the column names, the y axis spans the data. fail_input for a
// missing file, a line without three fields or a number that does not parse.
LinePanel table_panel(const std::filesystem::path& file);

// Panels side by side (two columns when there are several); `rung plot`.
void plot_lines(const std::vector<LinePanel>& panels, const std::filesystem::path& file);

// `rung plot`: spectra of any format rung reads (io/spectrum_file.hpp read_any_spectrum) overlaid, one panel
// per quantity: "im" / "re" (Im / Re eps), "eps" (both), an optical constant (n, k, reflectivity,
// absorption_cm, loss; core/optical_constants.hpp) or "all". A YAMBO eel file is turned back into eps = -1/eel.
struct SpectraPlotOptions {
  std::vector<std::string> quantities = {"im"};
  std::string component;            // of rung HDF5 files: x, y, z, trace, q_...; "" = trace or the only one
  std::vector<std::string> labels;  // one per file; default: the file name (and component)
  bool nolf = false;                // also eps without local fields, where the file has it
  std::string title;
};
// The panels for `files` (fail_usage for an unknown quantity or a label count that does not match).
std::vector<LinePanel> spectra_panels(const std::vector<std::filesystem::path>& files, const SpectraPlotOptions& options);

}  // namespace rung::select
