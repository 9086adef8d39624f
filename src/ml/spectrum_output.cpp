#include "ml/spectrum_output.hpp"

#include "core/error.hpp"
#include "core/kramers_kronig.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <fmt/format.h>

namespace rung::ml {

nlohmann::json OutputProcessing::to_json() const {
  return {{"nonnegative", nonnegative}, {"smoothing", "gaussian"}, {"smoothing_fwhm_eV", smoothing_fwhm_eV}};
}

OutputProcessing default_output_processing() { return {}; }

std::vector<double> process_spectrum(const std::vector<double>& energy_eV, std::vector<double> v,
                                     const OutputProcessing& p) {
  if (v.size() != energy_eV.size()) fail("process_spectrum: spectrum and grid differ in length");
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      fail(
          fmt::format("process_spectrum: the spectrum is {} at {:g} eV (point {} of {}); only finite values can be "
                      "clipped and smoothed",
                      v[i], energy_eV[i], i + 1, v.size()));
  if (p.nonnegative)
    for (double& x : v) x = std::max(x, 0.0);
  if (p.smoothing_fwhm_eV <= 0 || v.size() < 3) return v;
  const double step = (energy_eV.back() - energy_eV.front()) / double(v.size() - 1);
  const double sigma = p.smoothing_fwhm_eV / (2 * std::sqrt(2 * std::log(2.0))) / step;  // in grid points
  const auto half = std::ptrdiff_t(std::ceil(4 * sigma));
  std::vector<double> kernel(std::size_t(2 * half + 1));
  for (std::ptrdiff_t k = -half; k <= half; ++k) kernel[std::size_t(k + half)] = std::exp(-0.5 * double(k * k) / (sigma * sigma));
  const auto n = std::ptrdiff_t(v.size());
  std::vector<double> out(v.size());
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    double sum = 0, weight = 0;
    for (std::ptrdiff_t k = std::max(-half, -i); k <= std::min(half, n - 1 - i); ++k) {
      const double w = kernel[std::size_t(k + half)];
      sum += w * v[std::size_t(i + k)];
      weight += w;
    }
    out[std::size_t(i)] = sum / weight;
  }
  return out;
}

double roughness(const std::vector<double>& v) {
  if (v.size() < 3) return 0;
  double d2 = 0, s2 = 0;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    const double d = v[i - 1] - 2 * v[i] + v[i + 1];
    d2 += d * d;
  }
  for (double x : v) s2 += x * x;
  return s2 > 0 ? std::sqrt(d2 / double(v.size() - 2)) / std::sqrt(s2 / double(v.size())) : 0;
}

PredictedOptics predicted_optics(const std::vector<double>& energy_eV, const std::vector<double>& eps_imag) {
  PredictedOptics r;
  // the labels are time-ordered (rung's default for insulators): their antiresonant part is removed first
  r.eps_real = kramers_kronig_re_eps(energy_eV, causal_im_eps(energy_eV, eps_imag, paper::broadening_eV));
  std::vector<std::complex<double>> eps(energy_eV.size());
  for (std::size_t i = 0; i < eps.size(); ++i) eps[i] = {r.eps_real[i], eps_imag[i]};
  r.optical = optical_constants(energy_eV, eps);
  return r;
}

std::string re_eps_source(const std::vector<double>& energy_eV) {
  return fmt::format(
      "kramers-kronig of the predicted Im eps, {:g}-{:g} eV, truncated, time-ordered antiresonant part "
      "removed (core/kramers_kronig.hpp)",
      energy_eV.empty() ? 0.0 : energy_eV.front(), energy_eV.empty() ? 0.0 : energy_eV.back());
}

}  // namespace rung::ml
