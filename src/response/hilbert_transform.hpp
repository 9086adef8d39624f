#pragma once
// From a spectral function sampled on uniform bins, S(E_j), E_j = e0 + jΔ, to its broadened
// "Hilbert transform" on the output frequencies:
//
//   X(ω_i) = Σ_j S_j F(ω_i, E_j),   F = r(ω − E) + a(ω + E)   (broadening.hpp)
//
// When the output grid is uniform and its step is a multiple m of Δ, with ω_i on the bin lattice
// (ω_i = e0 + (p + i m)Δ), the resonant part is a convolution and the antiresonant part a correlation
// of S with fixed kernels: one FFT of S, products with the precomputed kernel spectra, and inverse FFTs
// folded to length L/m (only every m-th point is wanted). Cost O(L log L) per matrix element instead of
// O(N_ω · N_bins). Kernels that are not functions of ω ∓ E (the oscillator form) or non-uniform output
// grids fall back to the dense sum.
//
// S_ab is Hermitian in (a, b), F is not: with P = Σ_j S_j Re F_j and Q = Σ_j S_j Im F_j (the transforms
// of S_ab for a ≤ b), chi_ab = P + iQ and chi_ba = conj(P) + i conj(Q).
#include <complex>
#include <cstddef>
#include <memory>
#include <vector>

#include "response/broadening.hpp"

namespace rung::response {

// The bin lattice for a set of output frequencies: Δ = step/m with m the smallest integer making
// Δ ≤ η/points_per_eta, and the origin e0 ∈ [0, Δ) chosen so that every ω_i is a lattice point.
struct SpectralGrid {
  double e0 = 0, delta = 0;
  long p = 0;                 // ω_0 = e0 + pΔ
  int m = 1;                  // output step = mΔ
  std::size_t n_bins = 0;     // E_j, j = 0..n_bins-1, covers [e0, max transition energy + Δ]
  bool uniform_output = true;

  static SpectralGrid make(const std::vector<double>& omega_Ha, double eta_Ha, double points_per_eta,
                           double max_energy_Ha);
  double bin_energy(std::size_t j) const { return e0 + delta * static_cast<double>(j); }
};

class SpectralTransform {
public:
  // `n_transforms`: how many elements will be transformed; FFTW measures its plans (a few 0.1 s) only when
  // that many FFTs repay it, and estimates them otherwise.
  SpectralTransform(const FrequencyKernel& kernel, const std::vector<double>& omega_Ha, const SpectralGrid& grid,
                    std::size_t n_transforms = 1);
  ~SpectralTransform();
  SpectralTransform(const SpectralTransform&) = delete;
  SpectralTransform& operator=(const SpectralTransform&) = delete;

  bool uses_fft() const { return fft_; }
  std::size_t fft_length() const { return L_; }

  // Per-thread scratch space.
  struct Workspace;
  struct WorkspaceDeleter {
    void operator()(Workspace* w) const;
  };
  std::unique_ptr<Workspace, WorkspaceDeleter> workspace() const;

  // s: n_bins samples of one element S_ab (a < b), in double or single precision (the transform itself runs in
  // double). Writes P_i and Q_i (i = 0..N_ω-1).
  template <class T>
  void transform(const std::complex<T>* s, Complex* P, Complex* Q, Workspace& ws) const;
  // s: a diagonal element (real up to rounding). Writes chi_aa(ω_i) = P_i + i Q_i.
  template <class T>
  void transform_diagonal(const std::complex<T>* s, Complex* chi, Workspace& ws) const;

private:
  template <class T>
  void forward(const std::complex<T>* s, Workspace& ws) const;
  void fold_and_invert(const std::vector<Complex>& kr, const std::vector<Complex>& ka, Workspace& ws,
                       Complex* out, bool combine_imag, const std::vector<Complex>* kr2,
                       const std::vector<Complex>* ka2) const;
  const FrequencyKernel kernel_;
  std::vector<double> omega_;
  SpectralGrid grid_;
  bool fft_ = false;
  std::size_t L_ = 0, Lf_ = 0;  // FFT length and folded length L/m
  // Kernel spectra (phase-shifted by the output offset p): resonant/antiresonant, real/imag parts.
  std::vector<Complex> kr_re_, kr_im_, ka_re_, ka_im_;
  // An FFTW plan, destroyed under the planner lock; members, so a constructor that throws after planning leaks none.
  struct Plan {
    void* p = nullptr;
    Plan() = default;
    Plan(const Plan&) = delete;
    Plan& operator=(const Plan&) = delete;
    ~Plan();
  };
  Plan plan_forward_, plan_backward_;
};

}  // namespace rung::response
