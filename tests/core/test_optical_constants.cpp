// The optical constants against the textbook formulas on hand-made eps values whose square roots are exact:
//   eps = 4        -> N = 2:       n = 2, k = 0, R = (1/3)^2 = 1/9, alpha = 0, loss = 0 (transparent)
//   eps = 3 + 4i   -> N = 2 + i:   R = (1 + 1)/(9 + 1) = 0.2, loss = 4/25 = 0.16
//   eps = -3 + 4i  -> N = 1 + 2i:  R = (0 + 4)/(4 + 4) = 0.5, loss = 4/25 = 0.16
//   eps = -1 (+0i) -> N = i:       R = 1 (a metal below its plasma frequency reflects everything), loss = 0
//   eps = 1        -> N = 1:       R = 0 (vacuum)
// alpha = 4 pi k / lambda checked independently: at E = hc/(1 um) = 1.239841984 eV, k = 1 gives
// 4 pi / 1e-4 cm = 125663.706 cm^-1.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/optical_constants.hpp"

#include <cmath>
#include <numbers>

using namespace rung;

TEST_CASE("optical constants: textbook values on hand-made eps", "[unit][optical]") {
  const std::vector<double> e = {1.0, 2.0, 2.0, 3.0, 5.0};
  const std::vector<std::complex<double>> eps = {{4, 0}, {3, 4}, {-3, 4}, {-1, -0.0}, {1, 0}};
  const auto c = optical_constants(e, eps);
  // exact arithmetic up to rounding of sqrt and division: 1e-14 relative
  const auto close = [](double a, double b) { return std::abs(a - b) <= 1e-14 * std::max(1.0, std::abs(b)); };
  CHECK(close(c.n[0], 2));
  CHECK(close(c.k[0], 0));
  CHECK(close(c.reflectivity[0], 1.0 / 9));
  CHECK(c.absorption_cm[0] == 0);
  CHECK(c.loss[0] == 0);

  CHECK(close(c.n[1], 2));
  CHECK(close(c.k[1], 1));
  CHECK(close(c.reflectivity[1], 0.2));
  CHECK(close(c.loss[1], 0.16));
  // alpha = 2 E k / (hbar c) = 2 * 2 eV * 1 / 1.973269804e-5 eV cm
  CHECK(c.absorption_cm[1] == Approx(202709.2287).epsilon(1e-9));  // 4 / 1.973269804e-5

  CHECK(close(c.n[2], 1));
  CHECK(close(c.k[2], 2));
  CHECK(close(c.reflectivity[2], 0.5));
  CHECK(close(c.loss[2], 0.16));

  CHECK(std::abs(c.n[3]) < 1e-15);
  CHECK(close(c.k[3], 1));  // k >= 0 although Im eps is a negative zero
  CHECK(close(c.reflectivity[3], 1));
  CHECK(c.loss[3] == 0);

  CHECK(close(c.n[4], 1));
  CHECK(c.reflectivity[4] == 0);
}

TEST_CASE("optical constants: alpha = 4 pi k / lambda", "[unit][optical]") {
  // E = h c / lambda with lambda = 1 um: h c = 2 pi hbar c = 1.239841984e-4 eV cm
  const double E = 2 * std::numbers::pi * hbar_c_eV_cm / 1e-4;
  CHECK(E == Approx(1.239841984).epsilon(1e-9));
  const auto c = optical_constants({E}, {std::complex<double>(-1, 0) + std::complex<double>(0, 1e-300)});
  CHECK(c.k[0] == Approx(1).epsilon(1e-12));
  CHECK(c.absorption_cm[0] == Approx(4 * std::numbers::pi / 1e-4).epsilon(1e-12));
}

TEST_CASE("optical constants: eps = 0 and mismatched sizes", "[unit][optical]") {
  const auto c = optical_constants({1.0}, {{0, 0}});
  CHECK(c.loss[0] == 0);  // the one point where 1/eps diverges: no loss function, not a NaN
  CHECK(c.reflectivity[0] == 1);
  CHECK_THROWS_AS(optical_constants({1.0, 2.0}, {{1, 0}}), rung::Error);
  CHECK(optical_constant(c, "loss").size() == 1);
  CHECK_THROWS_WITH(optical_constant(c, "nn"), Catch::Contains("unknown optical constant 'nn'"));
  CHECK(optical_constant_names().size() == 5);
}
