#include "response/hilbert_transform.hpp"

#include "core/error.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>

namespace rung::response {

namespace {

// FFTW's planner (creating and destroying plans) is not thread-safe, executing a plan is. A library host may call
// rung from several threads at once (the C API, the Python module with the GIL released), so every plan rung
// makes or destroys goes through this lock. (The lock is rung's own: a host that plans FFTW transforms of its own
// on other threads at the same time must call fftw_make_planner_thread_safe() first; rung leaves FFTW's global
// state as the host set it.)
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

// Smallest 2^a 3^b 5^c >= n (FFTW is fastest on such lengths).
std::size_t nice_length(std::size_t n) {
  for (std::size_t m = std::max<std::size_t>(n, 1);; ++m) {
    std::size_t r = m;
    for (std::size_t f : {2, 3, 5})
      while (r % f == 0) r /= f;
    if (r == 1) return m;
  }
}

}  // namespace

// FFTW's aligned buffers of one transform (a nested type, so that the class's member has no anonymous-namespace
// type: the file may be compiled inside a unity batch).
struct SpectralTransform::Workspace {
  struct FftwBuffer {
    fftw_complex* p = nullptr;
    std::size_t n = 0;
    explicit FftwBuffer(std::size_t n_) : p(fftw_alloc_complex(n_)), n(n_) {
      if (!p) fail("out of memory allocating an FFT buffer");
    }
    ~FftwBuffer() { fftw_free(p); }
    FftwBuffer(const FftwBuffer&) = delete;
    FftwBuffer& operator=(const FftwBuffer&) = delete;
    Complex* c() { return reinterpret_cast<Complex*>(p); }
  };
  FftwBuffer sh, z;
  Workspace(std::size_t L, std::size_t Lf) : sh(std::max<std::size_t>(L, 1)), z(std::max<std::size_t>(Lf, 1)) {}
};

SpectralGrid SpectralGrid::make(const std::vector<double>& omega, double eta, double points_per_eta,
                                double max_energy) {
  if (omega.empty()) fail("spectral grid: no output frequencies");
  if (!(points_per_eta > 0)) fail("spectral grid: points per eta must be positive");
  SpectralGrid g;
  const double target = eta / points_per_eta;
  const std::size_t nw = omega.size();
  const double step = nw > 1 ? omega[1] - omega[0] : 0.0;
  if (nw > 1 && step > 0) {
    for (std::size_t i = 0; i < nw; ++i)
      if (std::abs(omega[i] - (omega[0] + step * double(i))) > 1e-9 * std::max(1.0, std::abs(omega[i])))
        g.uniform_output = false;
  }
  if (nw > 1 && step > 0 && g.uniform_output) {
    g.m = std::max(1, static_cast<int>(std::ceil(step / target - 1e-9)));
    g.delta = step / g.m;
    g.p = static_cast<long>(std::floor(omega[0] / g.delta + 1e-6));
    g.e0 = omega[0] - double(g.p) * g.delta;
    if (g.e0 < 0) g.e0 = 0;  // rounding only (|e0| ~ 1e-18)
  } else {
    g.uniform_output = nw == 1;
    g.delta = target;
    g.m = 1;
    if (nw == 1) {
      g.p = static_cast<long>(std::floor(omega[0] / g.delta + 1e-6));
      g.e0 = std::max(0.0, omega[0] - double(g.p) * g.delta);
    }
  }
  g.n_bins = static_cast<std::size_t>(std::floor(std::max(0.0, max_energy - g.e0) / g.delta)) + 2;
  return g;
}

SpectralTransform::SpectralTransform(const FrequencyKernel& kernel, const std::vector<double>& omega,
                                     const SpectralGrid& grid, std::size_t n_transforms)
    : kernel_(kernel), omega_(omega), grid_(grid) {
  fft_ = kernel.shift_invariant() && grid.uniform_output;
  if (!fft_) return;
  const std::size_t nw = omega.size();
  const long m = grid.m, nb = static_cast<long>(grid.n_bins);
  const long l_min = grid.p, l_max = grid.p + static_cast<long>(nw - 1) * m;
  const std::size_t need = static_cast<std::size_t>(nb + (l_max - l_min + 1));
  Lf_ = nice_length((need + m - 1) / m);
  L_ = Lf_ * static_cast<std::size_t>(m);
  const long L = static_cast<long>(L_);
  auto wrap = [L](long i) { return static_cast<std::size_t>(((i % L) + L) % L); };

  Workspace::FftwBuffer a(L_), b(Lf_);
  // Measured plans are 10-20 % faster per transform but their planning is serial, on every rank, and long
  // (and times candidates on a busy machine unreliably): on the 113-G Si run (6670 transforms) the measured
  // plan cost more than it saved (user time 2.15 s against 1.9 s); on a 307-G four-atom cell (47278
  // transforms of length 5760, one core) planning took 1.9 s and the transforms 3.2-3.4 s against 3.8 s
  // estimated, a net loss of 1.3-1.6 s. The break-even lies near 200000 transforms (about 630 G), so
  // measured plans are used only from 250000 transforms on.
  const unsigned flags = n_transforms >= 250000 ? FFTW_MEASURE : FFTW_ESTIMATE;
  {
    const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    plan_forward_.p = fftw_plan_dft_1d(static_cast<int>(L_), a.p, a.p, FFTW_FORWARD, flags);
    plan_backward_.p = fftw_plan_dft_1d(static_cast<int>(Lf_), b.p, b.p, FFTW_BACKWARD, flags);
  }
  if (!plan_forward_.p || !plan_backward_.p) fail("FFTW could not plan the spectral transform");

  // Kernel samples: resonant k_r(n) = r(nΔ) for n = l - j, antiresonant k_a(s) = a(2 e0 + sΔ) for s = l + j.
  std::vector<Complex> kr(L_, Complex(0)), ka(L_, Complex(0));
  for (long n = l_min - nb + 1; n <= l_max; ++n) kr[wrap(n)] = kernel.resonant(double(n) * grid.delta);
  for (long s = l_min; s <= l_max + nb - 1; ++s) ka[wrap(s)] = kernel.antiresonant(2.0 * grid.e0 + double(s) * grid.delta);

  // Spectra of the real and imaginary parts, times the output-offset phase exp(2πi f p / L).
  auto spectrum = [&](const std::vector<Complex>& k, bool imag_part) {
    Complex* ac = a.c();
    for (std::size_t i = 0; i < L_; ++i) ac[i] = imag_part ? Complex(k[i].imag()) : Complex(k[i].real());
    fftw_execute_dft(static_cast<fftw_plan>(plan_forward_.p), a.p, a.p);
    std::vector<Complex> out(L_);
    const long pm = ((grid.p % L) + L) % L;
    for (std::size_t f = 0; f < L_; ++f) {
      const double phase = 2.0 * std::numbers::pi * double((static_cast<long>(f) * pm) % L) / double(L);
      out[f] = ac[f] * Complex(std::cos(phase), std::sin(phase));
    }
    return out;
  };
  kr_re_ = spectrum(kr, false);
  kr_im_ = spectrum(kr, true);
  ka_re_ = spectrum(ka, false);
  ka_im_ = spectrum(ka, true);
}

SpectralTransform::~SpectralTransform() = default;

SpectralTransform::Plan::~Plan() {
  if (!p) return;
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftw_destroy_plan(static_cast<fftw_plan>(p));
}

void SpectralTransform::WorkspaceDeleter::operator()(Workspace* w) const { delete w; }

std::unique_ptr<SpectralTransform::Workspace, SpectralTransform::WorkspaceDeleter> SpectralTransform::workspace() const {
  return std::unique_ptr<Workspace, WorkspaceDeleter>(new Workspace(L_, Lf_));
}

template <class T>
void SpectralTransform::forward(const std::complex<T>* s, Workspace& ws) const {
  Complex* sh = ws.sh.c();
  for (std::size_t j = 0; j < grid_.n_bins; ++j) sh[j] = Complex(s[j]);
  std::fill(sh + grid_.n_bins, sh + L_, Complex(0));
  fftw_execute_dft(static_cast<fftw_plan>(plan_forward_.p), ws.sh.p, ws.sh.p);
}

// out_r = (1/L) Σ_f [Sh(f) Kr(f) + Sh(-f) Ka(f)] e^{2πi f (p + r m)/L}, folded to length L/m.
// With combine_imag, the kernel is Kr + i Kr2 (and Ka + i Ka2).
void SpectralTransform::fold_and_invert(const std::vector<Complex>& kr, const std::vector<Complex>& ka, Workspace& ws,
                                        Complex* out, bool combine_imag, const std::vector<Complex>* kr2,
                                        const std::vector<Complex>* ka2) const {
  const Complex* sh = ws.sh.c();
  Complex* z = ws.z.c();
  std::fill(z, z + Lf_, Complex(0));
  const Complex I(0, 1);
  for (std::size_t f = 0; f < L_; ++f) {
    const Complex s_plus = sh[f], s_minus = sh[f == 0 ? 0 : L_ - f];
    Complex y = s_plus * kr[f] + s_minus * ka[f];
    if (combine_imag) y += I * (s_plus * (*kr2)[f] + s_minus * (*ka2)[f]);
    z[f % Lf_] += y;
  }
  fftw_execute_dft(static_cast<fftw_plan>(plan_backward_.p), ws.z.p, ws.z.p);
  const double inv = 1.0 / double(L_);
  for (std::size_t r = 0; r < omega_.size(); ++r) out[r] = z[r] * inv;
}

template <class T>
void SpectralTransform::transform(const std::complex<T>* s, Complex* P, Complex* Q, Workspace& ws) const {
  if (!fft_) {
    for (std::size_t i = 0; i < omega_.size(); ++i) {
      Complex p(0), q(0);
      for (std::size_t j = 0; j < grid_.n_bins; ++j) {
        const Complex f = kernel_(omega_[i], grid_.bin_energy(j));
        p += Complex(s[j]) * f.real();
        q += Complex(s[j]) * f.imag();
      }
      P[i] = p;
      Q[i] = q;
    }
    return;
  }
  forward(s, ws);
  fold_and_invert(kr_re_, ka_re_, ws, P, false, nullptr, nullptr);
  fold_and_invert(kr_im_, ka_im_, ws, Q, false, nullptr, nullptr);
}

template <class T>
void SpectralTransform::transform_diagonal(const std::complex<T>* s, Complex* chi, Workspace& ws) const {
  if (!fft_) {
    for (std::size_t i = 0; i < omega_.size(); ++i) {
      Complex acc(0);
      for (std::size_t j = 0; j < grid_.n_bins; ++j)
        acc += double(s[j].real()) * kernel_(omega_[i], grid_.bin_energy(j));
      chi[i] = acc;
    }
    return;
  }
  forward(s, ws);
  fold_and_invert(kr_re_, ka_re_, ws, chi, true, &kr_im_, &ka_im_);
}

template void SpectralTransform::transform(const std::complex<double>*, Complex*, Complex*, Workspace&) const;
template void SpectralTransform::transform(const std::complex<float>*, Complex*, Complex*, Workspace&) const;
template void SpectralTransform::transform_diagonal(const std::complex<double>*, Complex*, Workspace&) const;
template void SpectralTransform::transform_diagonal(const std::complex<float>*, Complex*, Workspace&) const;

}  // namespace rung::response
