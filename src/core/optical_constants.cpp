#include "core/optical_constants.hpp"

#include "core/error.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung {

OpticalConstants optical_constants(const std::vector<double>& energy_eV, const std::vector<std::complex<double>>& eps) {
  if (energy_eV.size() != eps.size())
    fail(fmt::format("optical constants: {} energies but {} eps values", energy_eV.size(), eps.size()));
  const std::size_t m = eps.size();
  OpticalConstants c;
  c.n.resize(m);
  c.k.resize(m);
  c.reflectivity.resize(m);
  c.absorption_cm.resize(m);
  c.loss.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    // principal branch (Re N >= 0); a signed zero Im eps (-0.0) counts as 0, so that k >= 0 for real eps < 0
    const std::complex<double> N = std::sqrt(std::complex<double>(eps[i].real(), eps[i].imag() == 0 ? 0.0 : eps[i].imag()));
    const double n = N.real(), k = N.imag();
    c.n[i] = n;
    c.k[i] = k;
    c.reflectivity[i] = ((n - 1) * (n - 1) + k * k) / ((n + 1) * (n + 1) + k * k);
    c.absorption_cm[i] = 2.0 * energy_eV[i] * k / hbar_c_eV_cm;
    const double a2 = std::norm(eps[i]);
    c.loss[i] = a2 > 0 ? eps[i].imag() / a2 : 0.0;
  }
  return c;
}

const std::vector<OpticalConstantInfo>& optical_constant_names() {
  static const std::vector<OpticalConstantInfo> names = {
      {"n", "refractive index n", ""},
      {"k", "extinction coefficient k", ""},
      {"reflectivity", "reflectivity R (normal incidence)", ""},
      {"absorption_cm", "absorption coefficient alpha", "cm^-1"},
      {"loss", "loss function -Im(1/eps)", ""},
  };
  return names;
}

const std::vector<double>& optical_constant(const OpticalConstants& c, const std::string& name) {
  if (name == "n") return c.n;
  if (name == "k") return c.k;
  if (name == "reflectivity") return c.reflectivity;
  if (name == "absorption_cm") return c.absorption_cm;
  if (name == "loss") return c.loss;
  fail_usage(fmt::format("unknown optical constant '{}' (known: n, k, reflectivity, absorption_cm, loss)", name));
}

}  // namespace rung
