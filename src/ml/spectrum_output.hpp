#pragma once
// What rung reports as a predicted spectrum: the network's raw output made physical. The raw output
// of a regression head is rough (point-to-point noise far above the labels') and dips below zero,
// although Im eps >= 0 (absorption). rung clips it at zero and smooths it with a Gaussian no wider than
// the labels' own 0.3 eV broadening, so that the result is non-negative and smooth on that
// scale by construction (a Gaussian of a non-negative function is non-negative and infinitely smooth).
// The same processing is applied to every spectral target (ipa, rpa), in prediction and in evaluation
// (doc/models.md measures it on the validation materials). Torch-free.
#include <nlohmann/json.hpp>

#include <vector>

#include "core/paper.hpp"
namespace rung::ml {

struct OutputProcessing {
  bool nonnegative = true;          // clip at zero first (Im eps >= 0)
  double smoothing_fwhm_eV = paper::broadening_eV;  // Gaussian full width at half maximum (chosen on validation); 0 = none
  nlohmann::json to_json() const;
  static OutputProcessing raw() { return {false, 0.0}; }  // the network's output as it is
  bool is_raw() const { return !nonnegative && smoothing_fwhm_eV <= 0; }
};

// The processing rung applies to every predicted spectrum.
OutputProcessing default_output_processing();

// Applies `p` to a spectrum on a uniform grid `energy_eV` (the model's). The Gaussian is truncated at
// 4 sigma and renormalised at the grid's ends (no artificial drop at 0 and 20 eV).
std::vector<double> process_spectrum(const std::vector<double>& energy_eV, std::vector<double> values,
                                     const OutputProcessing& p);

// Roughness of a spectrum: RMS of its second difference over RMS of the spectrum (both on the grid);
// what "rough" means in doc/models.md.
double roughness(const std::vector<double>& values);

}  // namespace rung::ml
