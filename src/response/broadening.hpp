#pragma once
// The frequency factor F(ω, E) of chi0 for one pole at transition energy E > 0, with broadening η:
//
//   chi0_GG'(ω) = Σ_t w_t conj(ρ_t(G)) ρ_t(G') F(ω, E_t)
//
// Lorentzian (YAMBO): F = r(ω − E) + a(ω + E), r(x) = 1/(x + iη),
//   time-ordered (YAMBO's default "T"): a(y) = −1/(y − iη);   retarded ("R"): a(y) = −1/(y + iη).
// Gaussian: the same with 1/(x + i0) smeared by exp(−x²/η²)/(η√π) (the width convention of QE
//   epsilon.x's `intersmear` in its Gaussian JDOS): r(x) = (2/η) D(x/η) − i(√π/η) exp(−x²/η²), D = Dawson.
// Oscillator (QE epsilon.x's `calculation='eps'`, which ignores `smeartype`): the damped Lorentz oscillator
//   F = −2E / (E² − ω² − iηω), always causal; η is the full width. Not a function of ω ∓ E, so the
//   spectral route evaluates it by a dense sum instead of an FFT.
#include <complex>
#include <string>

namespace rung::response {

using Complex = std::complex<double>;

enum class Ordering { time_ordered, retarded };
enum class BroadeningShape { lorentz, gauss, oscillator };

Ordering parse_ordering(const std::string& s);            // "T" | "R" (case-insensitive); usage error otherwise
BroadeningShape parse_broadening(const std::string& s);  // "lorentz" | "gauss" | "oscillator"
std::string to_string(Ordering);
std::string to_string(BroadeningShape);

// Dawson's integral D(x) = exp(−x²) ∫_0^x exp(t²) dt, absolute accuracy better than 1e-13.
double dawson(double x);

class FrequencyKernel {
public:
  FrequencyKernel(BroadeningShape shape, Ordering ordering, double eta_Ha);

  BroadeningShape shape() const { return shape_; }
  Ordering ordering() const { return ordering_; }
  double eta() const { return eta_; }
  // True when F(ω, E) = resonant(ω − E) + antiresonant(ω + E) (Lorentz, Gauss): FFT-convolvable.
  bool shift_invariant() const { return shape_ != BroadeningShape::oscillator; }
  Complex resonant(double x) const;
  Complex antiresonant(double y) const;
  Complex operator()(double omega, double E) const;

private:
  Complex smeared_pole(double x) const;  // the broadened 1/(x + i0)
  BroadeningShape shape_;
  Ordering ordering_;
  double eta_;
};

}  // namespace rung::response
