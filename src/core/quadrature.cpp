#include "core/quadrature.hpp"

#include "core/error.hpp"

#include <cmath>
#include <numbers>
#include <string>

namespace rung {

GaussLegendre gauss_legendre(int n) {
  if (n < 1) fail("gauss_legendre: need at least one node, got " + std::to_string(n));
  GaussLegendre q;
  q.nodes.resize(std::size_t(n));
  q.weights.resize(std::size_t(n));
  for (int i = 0; i < n; ++i) {
    // Chebyshev-like first guess for the i-th root, then Newton with P_n and P_n' from the three-term recurrence
    double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    q.nodes[std::size_t(i)] = z;
    q.weights[std::size_t(i)] = 2 / ((1 - z * z) * dp * dp);
  }
  return q;
}

}  // namespace rung
