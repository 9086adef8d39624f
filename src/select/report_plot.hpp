#pragma once
// The pictures of `rung validate --plot`: one figure, drawn with PLplot's cairo driver (png or svg,
// chosen by the file extension):
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

}  // namespace rung::select
