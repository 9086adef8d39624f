#pragma once
// What rung reports as a predicted spectrum: the network's raw output made physical. The raw output
// of a regression head is rough (point-to-point noise far above the labels') and dips below zero,
// although Im eps >= 0 (absorption). rung clips it at zero and smooths it with a Gaussian no wider than
// the labels' own 0.3 eV broadening, so that the result is non-negative and smooth on that
// scale by construction (a Gaussian of a non-negative function is non-negative and infinitely smooth).
// The same processing is applied to every spectral target (ipa, rpa), in prediction and in evaluation
// (doc/models.md measures it on the validation materials). Torch-free.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/optical_constants.hpp"
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
// 4 sigma and renormalised at the grid's ends (no artificial drop at 0 and 20 eV). A NaN or Inf is an Error
// naming its energy: it would pass the clipping and the smoothing would spread it over the kernel's width.
std::vector<double> process_spectrum(const std::vector<double>& energy_eV, std::vector<double> values,
                                     const OutputProcessing& p);

// Roughness of a spectrum: RMS of its second difference over RMS of the spectrum (both on the grid);
// what "rough" means in doc/models.md.
double roughness(const std::vector<double>& values);

// The network predicts Im eps only. Every predicted spectrum rung writes (`rung predict -o` and --json, the
// Python module's rung.predict) also carries Re eps by Kramers-Kronig of that Im eps on the model's grid
// (core/kramers_kronig.hpp: truncated at the grid's end; the labels are time-ordered, so causal_im_eps with the
// labels' 0.3 eV first) and the optical constants of eps = Re + i Im (Im as predicted), computed as for a computed
// spectrum (core/optical_constants.hpp).
struct PredictedOptics {
  std::vector<double> eps_real;
  OpticalConstants optical;
};
PredictedOptics predicted_optics(const std::vector<double>& energy_eV, const std::vector<double>& eps_imag);

// Where that Re eps came from, recorded with every prediction (attribute / key `re_eps_source`), e.g.
// "kramers-kronig of the predicted Im eps, 0-20 eV, truncated, time-ordered antiresonant part removed
// (core/kramers_kronig.hpp)".
std::string re_eps_source(const std::vector<double>& energy_eV);

}  // namespace rung::ml
