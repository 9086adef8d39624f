#pragma once
// Gauss–Legendre quadrature on [-1, 1]: n nodes integrate polynomials of degree up to 2n - 1 exactly. Used for
// angular integrals over the sphere (cos θ nodes times a uniform φ grid). Torch-free.
#include <vector>

namespace rung {

struct GaussLegendre {
  std::vector<double> nodes;    // the roots of P_n, from +1 down to -1
  std::vector<double> weights;  // positive, summing to 2
};

// n >= 1 nodes (Newton on P_n from Chebyshev-like guesses, to 1e-15); n < 1 is an Error.
GaussLegendre gauss_legendre(int n);

}  // namespace rung
