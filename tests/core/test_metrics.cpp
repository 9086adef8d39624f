#include "core/metrics.hpp"
#include "core/text.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace rung;

TEST_CASE("trapezoid integrates linear functions exactly", "[unit][metrics]") {
  std::vector<double> x{0, 0.5, 2, 3}, f;
  for (double v : x) f.push_back(2 * v + 1);
  CHECK(trapezoid(x, f) == Approx(3 * 3 + 3));  // ∫0^3 (2x+1) = 9 + 3
}

TEST_CASE("SC, MSE, MAE follow the paper's definitions", "[unit][metrics]") {
  // Hand-computed on a 3-point grid 0, 1, 2: y = (1, 2, 1), x = (1, 1, 1).
  std::vector<double> w{0, 1, 2}, y{1, 2, 1}, x{1, 1, 1};
  auto d = spectral_distance(w, x, y);
  // ∫|x-y| = 0.5*(0+1) + 0.5*(1+0) = 1 ; ∫|y| = 0.5*(1+2)+0.5*(2+1) = 3.
  CHECK(d.sc == Approx(1.0 - 1.0 / 3.0));
  CHECK(d.mae == Approx(1.0 / 2.0));
  CHECK(d.mse == Approx(1.0 / 2.0));  // ∫(x-y)^2 = 1 as well
  CHECK(spectral_distance(w, y, y).sc == 1.0);
}

TEST_CASE("SC is normalised by the reference, not symmetric", "[unit][metrics]") {
  std::vector<double> w{0, 1, 2}, a{1, 1, 1}, b{2, 2, 2};
  CHECK(similarity_coefficient(w, a, b) == Approx(0.5));
  CHECK(similarity_coefficient(w, b, a) == Approx(0.0));
}

TEST_CASE("comparison on different grids interpolates onto the shared range", "[unit][metrics]") {
  std::vector<double> wy, y, wx, x;
  for (int i = 0; i <= 200; ++i) wy.push_back(0.1 * i), y.push_back(std::sin(0.1 * i) + 2);
  for (int i = 0; i <= 1000; ++i) wx.push_back(0.025 * i), x.push_back(std::sin(0.025 * i) + 2);
  auto d = compare_on_common_grid(wx, x, wy, y);  // x covers 0..25, y 0..20
  CHECK(d.sc > 0.99999);
  CHECK(d.mae < 1e-4);
}

TEST_CASE("quantiles: numpy's linear rule, NaN in gives NaN out, q outside [0, 1] refused", "[unit][metrics]") {
  CHECK(quantile({3, 1, 2, 4}, 0.5) == Approx(2.5));  // numpy.quantile([1,2,3,4], 0.5)
  CHECK(quantile({3, 1, 2, 4}, 0.9) == Approx(3.7));  // position 0.9 * 3 = 2.7: 3 + 0.7 * (4 - 3)
  CHECK(quantile({5}, 1.0) == 5);
  CHECK(std::isnan(quantile({}, 0.5)));
  CHECK(std::isnan(quantile({0.7, std::nan(""), 0.8}, 0.5)));
  CHECK_THROWS_WITH(quantile({1, 2}, 1.5), Catch::Contains("outside [0, 1]"));
  CHECK_THROWS(quantile({1, 2}, -0.1));
}

TEST_CASE("SC of a NaN spectrum is NaN, and a grid that does not increase is refused", "[unit][metrics]") {
  const std::vector<double> w{0, 1, 2}, y{1, 2, 1}, bad{1, std::nan(""), 1};
  CHECK(std::isnan(similarity_coefficient(w, y, bad)));  // (a NaN reference is no reference of zero area)
  CHECK(std::isnan(similarity_coefficient(w, bad, y)));
  CHECK_THROWS_WITH(similarity_coefficient({2, 1, 0}, y, y), Catch::Contains("must increase"));
}

TEST_CASE("numbers as Fortran prints them, whatever the C locale says", "[unit][text]") {
  double v = 0;
  CHECK((parse_number("0.3E-1", v) && v == Approx(0.03)));
  CHECK((parse_number("-.14E-14", v) && v == Approx(-1.4e-15)));
  CHECK((parse_number("1.0D-3", v) && v == Approx(1e-3)));
  CHECK((parse_number("+2.5", v) && v == 2.5));
  CHECK((parse_number(" 7 ", v) && v == 7));
  v = 42;
  CHECK_FALSE(parse_number("1.5x", v));
  CHECK_FALSE(parse_number("NaN", v));
  CHECK_FALSE(parse_number("1e999", v));
  CHECK_FALSE(parse_number("+-1", v));
  CHECK_FALSE(parse_number("", v));
  CHECK(v == 42);  // a failed parse leaves the value alone
}
