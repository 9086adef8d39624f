#include "core/kramers_kronig.hpp"

#include "core/error.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace rung {
namespace {

constexpr double pi = 3.14159265358979323846;
using Vec = Eigen::Map<const Eigen::VectorXd>;

double xlogx(double x) { return x == 0 ? 0.0 : x * std::log(std::abs(x)); }

// P Int_{-1}^{1} (1 - |u|) / (u - t) du for an integer t (the interior hat); the asymptotic series where the
// closed form would lose digits to cancellation (its terms grow as t ln t, the result falls as 1/t).
double hat(double t) {
  if (std::abs(t) > 20) {
    const double s = 1 / t, s2 = s * s;
    double sum = 0, p = s;
    for (int m = 0; m < 7; ++m, p *= s2) sum += 2.0 / ((2 * m + 1) * (2 * m + 2)) * p;
    return -sum;
  }
  return xlogx(1 - t) - xlogx(1 + t) + 2 * xlogx(t);
}

// The half hats: phi = 1 - u on [0, 1] (the grid's first point) and phi = 1 + u on [-1, 0] (its last), t != 0.
// (1 - t) ln|(1 - t)/t| = (1 - t) log1p(-1/t) keeps the digits for large |t|.
double half_hat_right(double t) { return t == 1 ? -1.0 : -1 + (1 - t) * std::log1p(-1 / t); }
double half_hat_left(double t) { return t == -1 ? 1.0 : 1 - (1 + t) * std::log1p(1 / t); }

}  // namespace

void require_kramers_kronig_grid(const std::vector<double>& e, const char* what) {
  if (e.size() < 3) fail_usage(fmt::format("Kramers-Kronig: the {} has {} points (at least 3 needed)", what, e.size()));
  const double h = (e.back() - e.front()) / double(e.size() - 1);
  if (!(h > 0)) fail_usage(fmt::format("Kramers-Kronig: the {} is not increasing", what));
  if (std::abs(e.front()) > 1e-9 * h)
    fail_usage(fmt::format("Kramers-Kronig: the {} starts at {:g} eV, not at 0", what, e.front()));
  for (std::size_t i = 0; i < e.size(); ++i)
    if (!(std::abs(e[i] - double(i) * h) <= 1e-6 * h))
      fail_usage(fmt::format("Kramers-Kronig: the {} is not uniform (point {} is {:.9g} eV, expected {:.9g})", what, i,
                             e[i], double(i) * h));
}

std::vector<double> kramers_kronig_re_eps(const std::vector<double>& energy_eV, const std::vector<double>& im_eps) {
  require_kramers_kronig_grid(energy_eV);
  if (im_eps.size() != energy_eV.size())
    fail(fmt::format("Kramers-Kronig: {} Im eps values on {} energies", im_eps.size(), energy_eV.size()));
  const long n = long(energy_eV.size());
  // r[k] = g(-k) for k in [-(n - 1), 2n - 2]: the interior hats' arguments i - j = -(j - i) and -i - j = -(j + i),
  // so that the inner loop runs forwards through r.
  const long lo = -(n - 1);
  std::vector<double> table(std::size_t(3 * n - 2));
  for (long k = lo; k <= 2 * n - 2; ++k) table[std::size_t(k - lo)] = hat(-double(k));
  const double* r = table.data() - lo;  // r[k]

  std::vector<double> re(std::size_t(n), 1.0);
  const double first = im_eps.front(), last = im_eps.back();
  const double* y = im_eps.data();
  for (long i = 0; i < n - 1; ++i) {
    // interior hats j = 1 .. n-2: G(i - j) + G(-i - j) = r[j - i] + r[j + i]; four partial sums (no dependency
    // chain, so that the compiler vectorises the loop without reassociating one sum: 2001 points in ~2 ms)
    const double* a = r - i;
    const double* b = r + i;
    double s[4] = {0, 0, 0, 0};
    long j = 1;
    for (; j + 3 < n - 1; j += 4)
      for (int q = 0; q < 4; ++q) s[q] += y[j + q] * (a[j + q] + b[j + q]);
    for (; j < n - 1; ++j) s[0] += y[j] * (a[j] + b[j]);
    double acc = (s[0] + s[1]) + (s[2] + s[3]);
    // first point (x = 0): half hat gR at t = i and t = -i; at i = 0 the term is dropped (see the header)
    if (i > 0) acc += first * (half_hat_right(double(i)) + half_hat_right(double(-i)));
    // last point (x = W): half hat gL at t = i - (n-1) and -i - (n-1), both nonzero for i < n - 1
    acc += last * (half_hat_left(double(i - (n - 1))) + half_hat_left(double(-i - (n - 1))));
    re[std::size_t(i)] = 1 + acc / pi;
  }
  // w = W: the truncated transform diverges there when eps2(W) != 0; extrapolate from the two points before
  re[std::size_t(n - 1)] = 2 * re[std::size_t(n - 2)] - re[std::size_t(n - 3)];
  return re;
}

std::vector<double> causal_im_eps(const std::vector<double>& energy_eV, const std::vector<double>& im_eps,
                                  double eta_eV) {
  require_kramers_kronig_grid(energy_eV);
  if (im_eps.size() != energy_eV.size())
    fail(fmt::format("causal_im_eps: {} Im eps values on {} energies", im_eps.size(), energy_eV.size()));
  if (!(eta_eV > 0)) fail(fmt::format("causal_im_eps: broadening {} eV is not positive", eta_eV));
  std::vector<double> out = im_eps;
  const double at0 = im_eps.front();
  double top = 0;
  for (double v : im_eps) top = std::max(top, v);
  if (at0 == 0 || !(top > 0)) return out;
  const std::size_t n = energy_eV.size();
  const double h = energy_eV[1] - energy_eV[0];
  // the onset: the first point at 10 % of the maximum
  std::size_t onset = 0;
  while (im_eps[onset] < 0.1 * top) ++onset;
  // L(w_i + E_j) depends on i + j only: one table of 2n - 1 values, a forward inner loop
  std::vector<double> lor(2 * n - 1);
  for (std::size_t k = 0; k < lor.size(); ++k) {
    const double x = double(k) * h;
    lor[k] = eta_eV / (pi * (x * x + eta_eV * eta_eV));
  }
  std::vector<double> shape(n);
  const Vec above(im_eps.data() + onset, long(n - onset));
  for (std::size_t i = 0; i < n; ++i) {
    shape[i] = above.dot(Vec(lor.data() + i + onset, long(n - onset)));
  }
  if (!(shape[0] > 0)) return out;
  for (std::size_t i = 0; i < n; ++i) out[i] -= at0 * shape[i] / shape[0];
  return out;
}

}  // namespace rung
