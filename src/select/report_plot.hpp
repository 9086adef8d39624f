#pragma once
// The pictures of `rung validate --plot`: one figure, drawn with PLplot's cairo driver (png or svg,
// chosen by the file extension):
//   - panels with the predicted and the computed Im eps overlaid, one per material (for large sets:
//     the lowest-SC and the highest-SC materials, labelled as such), each titled with its SC;
//   - a last panel with the SC distribution: histogram, median and quartiles.
// Written atomically (temp file + rename).
#include <filesystem>

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

}  // namespace rung::select
