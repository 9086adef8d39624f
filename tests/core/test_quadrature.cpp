// Gauss-Legendre quadrature against the textbook nodes and weights, and its exactness up to degree 2n - 1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/quadrature.hpp"

using rung::gauss_legendre;

TEST_CASE("Gauss-Legendre: the textbook rules for 1, 2 and 3 nodes", "[unit][core]") {
  const auto one = gauss_legendre(1);  // the midpoint rule
  REQUIRE(one.nodes.size() == 1);
  CHECK(one.nodes[0] == Approx(0).margin(1e-15));
  CHECK(one.weights[0] == Approx(2).epsilon(1e-14));

  auto two = gauss_legendre(2);  // ±1/√3, weights 1
  std::sort(two.nodes.begin(), two.nodes.end());
  CHECK(two.nodes[0] == Approx(-1 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(two.nodes[1] == Approx(1 / std::sqrt(3.0)).epsilon(1e-14));
  for (double w : two.weights) CHECK(w == Approx(1).epsilon(1e-14));

  const auto three = gauss_legendre(3);  // 0 with weight 8/9, ±√(3/5) with weight 5/9
  for (std::size_t i = 0; i < 3; ++i) {
    const double x = three.nodes[i], w = three.weights[i];
    if (std::abs(x) < 1e-12) CHECK(w == Approx(8.0 / 9).epsilon(1e-14));
    else {
      CHECK(std::abs(x) == Approx(std::sqrt(0.6)).epsilon(1e-14));
      CHECK(w == Approx(5.0 / 9).epsilon(1e-14));
    }
  }
  CHECK_THROWS_AS(gauss_legendre(0), rung::Error);
}

TEST_CASE("Gauss-Legendre with n nodes integrates x^k exactly up to k = 2n - 1, and not x^2n", "[unit][core]") {
  for (int n : {4, 8, 12}) {
    const auto q = gauss_legendre(n);
    double sum_w = 0;
    for (double w : q.weights) sum_w += w;
    CHECK(sum_w == Approx(2).epsilon(1e-13));
    auto integral = [&](int k) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += q.weights[std::size_t(i)] * std::pow(q.nodes[std::size_t(i)], k);
      return s;
    };
    for (int k = 0; k <= 2 * n - 1; ++k) {
      const double exact = k % 2 ? 0.0 : 2.0 / (k + 1);
      CHECK(integral(k) == Approx(exact).margin(1e-13).epsilon(0));
    }
    // degree 2n is the first the rule misses (its error is a positive multiple of the 2n-th derivative)
    CHECK(std::abs(integral(2 * n) - 2.0 / (2 * n + 1)) > 1e-10);  // 1.8e-7 for n = 12, 1000× the margin above
  }
}
