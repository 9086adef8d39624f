#include "response/broadening.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

namespace rung::response {

Ordering parse_ordering(const std::string& s) {
  const auto l = lower(s);
  if (l == "t" || l == "time-ordered") return Ordering::time_ordered;
  if (l == "r" || l == "retarded") return Ordering::retarded;
  fail_usage("--ordering must be T (time-ordered, YAMBO's default) or R (retarded), not '" + s + "'");
}

BroadeningShape parse_broadening(const std::string& s) {
  const auto l = lower(s);
  if (l == "lorentz" || l == "lorentzian") return BroadeningShape::lorentz;
  if (l == "gauss" || l == "gaussian") return BroadeningShape::gauss;
  if (l == "oscillator" || l == "epsilon.x") return BroadeningShape::oscillator;
  fail_usage("--broadening must be lorentz, gauss or oscillator, not '" + s + "'");
}

std::string to_string(Ordering o) { return o == Ordering::time_ordered ? "T" : "R"; }
std::string to_string(BroadeningShape b) {
  switch (b) {
    case BroadeningShape::lorentz: return "lorentz";
    case BroadeningShape::gauss: return "gauss";
    case BroadeningShape::oscillator: return "oscillator";
  }
  return "?";
}

// Rybicki's method (exact sampling theorem sum) with step h = 0.2: truncation error ~exp(-(π/2h)²) ≈ 1e-27;
// 18 terms make the neglected coefficients < 1e-16. Small |x|: the Taylor series.
double dawson(double x) {
  const double ax = std::abs(x);
  if (ax < 0.2) {
    const double x2 = x * x;
    // D(x) = Σ (-1)^n 2^n x^(2n+1) / (2n+1)!!
    double term = x, sum = x;
    for (int n = 1; n < 12; ++n) {
      term *= -2.0 * x2 / (2.0 * n + 1.0);
      sum += term;
    }
    return sum;
  }
  constexpr double h = 0.2;
  constexpr int nmax = 18;
  const int n0 = 2 * static_cast<int>(std::lround(0.5 * ax / h));
  const double xp = ax - n0 * h;
  double e1 = std::exp(2.0 * xp * h);
  const double e2 = e1 * e1;
  double d1 = n0 + 1, d2 = d1 - 2.0, sum = 0.0;
  for (int i = 0; i < nmax; ++i) {
    const double c = std::exp(-((2.0 * i + 1.0) * h) * ((2.0 * i + 1.0) * h));
    sum += c * (e1 / d1 + 1.0 / (d2 * e1));
    d1 += 2.0;
    d2 -= 2.0;
    e1 *= e2;
  }
  const double r = std::exp(-xp * xp) * sum / std::sqrt(std::numbers::pi);
  return x < 0 ? -r : r;
}

FrequencyKernel::FrequencyKernel(BroadeningShape shape, Ordering ordering, double eta_Ha)
    : shape_(shape), ordering_(ordering), eta_(eta_Ha) {
  if (!(eta_Ha > 0) || !std::isfinite(eta_Ha)) fail_usage("the broadening --eta must be positive");
}

Complex FrequencyKernel::smeared_pole(double x) const {
  if (shape_ == BroadeningShape::gauss) {
    const double u = x / eta_;
    return {2.0 / eta_ * dawson(u), -std::sqrt(std::numbers::pi) / eta_ * std::exp(-u * u)};
  }
  return 1.0 / Complex(x, eta_);
}

Complex FrequencyKernel::resonant(double x) const { return smeared_pole(x); }

Complex FrequencyKernel::antiresonant(double y) const {
  const Complex p = smeared_pole(y);  // the broadened 1/(y + i0)
  return ordering_ == Ordering::time_ordered ? -std::conj(p) : -p;
}

Complex FrequencyKernel::operator()(double omega, double E) const {
  if (shape_ == BroadeningShape::oscillator) {
    if (E <= 0) return 0.0;  // the form vanishes with E (only the empty zero-energy bin reaches here)
    return -2.0 * E / (E * E - omega * omega - Complex(0, eta_ * omega));
  }
  return resonant(omega - E) + antiresonant(omega + E);
}

}  // namespace rung::response
