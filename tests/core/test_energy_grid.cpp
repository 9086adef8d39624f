#include "core/energy_grid.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <complex>

using namespace rung;
using C = std::complex<double>;

TEST_CASE("energy grid: a subgrid covers the grid and starts on its first point", "[unit][energy_grid]") {
  const EnergyGrid g = EnergyGrid::paper_default();  // 2001 points, 10 meV
  const EnergyGrid s4 = g.subgrid(4);
  CHECK(s4.steps == 501);  // 2000 / 4 = 500 intervals: ends exactly at 20 eV
  CHECK(s4.emax_eV == Approx(20.0));
  CHECK(s4.step_eV() == Approx(0.04));
  const EnergyGrid s3 = g.subgrid(3);  // 2000 / 3 is not whole: one point beyond 20 eV
  CHECK(s3.steps == 668);
  CHECK(s3.emax_eV == Approx(20.01));
  CHECK(g.subgrid(1).steps == g.steps);
}

TEST_CASE("energy grid: cubic interpolation from a subgrid", "[unit][energy_grid]") {
  const EnergyGrid g{0.0, 20.0, 2001};
  SECTION("a cubic polynomial comes back exactly, ends included") {
    for (std::size_t stride : {3, 4, 7}) {
      const EnergyGrid s = g.subgrid(stride);
      auto f = [](double x) {
        return C(0.5 + x - 0.2 * x * x + 0.01 * x * x * x, -0.03 * x * x * x + x);
      };
      std::vector<C> coarse;
      for (double x : s.values_eV()) coarse.push_back(f(x));
      const auto fine = interpolate_subgrid(g, stride, coarse);
      REQUIRE(fine.size() == g.steps);
      double worst = 0;
      for (std::size_t i = 0; i < g.steps; ++i) worst = std::max(worst, std::abs(fine[i] - f(g[i])));
      CHECK(worst < 1e-9);
    }
  }
  SECTION("a Lorentzian of half-width 0.3 eV at h = 0.05 eV (eta/6): inside error below the stated bound") {
    // bound: 3 h^4 |f''''| / 128 with |f''''| <= 24 f(peak) / eta^4, i.e. (h/eta)^4 * 0.5625 = 4.34e-4 of the peak
    const double eta = 0.3, e0 = 7.013;
    auto f = [&](double x) {
      return C(eta / ((x - e0) * (x - e0) + eta * eta), (x - e0) / ((x - e0) * (x - e0) + eta * eta));
    };
    const std::size_t stride = 5;
    std::vector<C> coarse;
    for (double x : g.subgrid(stride).values_eV()) coarse.push_back(f(x));
    const auto fine = interpolate_subgrid(g, stride, coarse);
    double worst = 0;
    for (std::size_t i = stride; i + stride < g.steps; ++i)
      worst = std::max(worst, std::abs(fine[i].real() - f(g[i]).real()));
    const double peak = 1 / eta;
    CHECK(worst / peak < 4.34e-4);
    CHECK(worst / peak > 1e-6);                     // and it is an approximation, not a copy of the fine function
    CHECK(fine[10 * stride] == f(g[10 * stride]));  // shared points are exact
  }
  SECTION("wrong sizes are errors") {
    CHECK_THROWS_AS(interpolate_subgrid(g, 4, std::vector<C>(500)), Error);
    CHECK_THROWS_AS(interpolate_subgrid(EnergyGrid{0, 1, 7}, 4, std::vector<C>(3)), Error);  // 3 coarse points
    CHECK(interpolate_subgrid(g, 1, std::vector<C>(2001, C(1))).size() == 2001);
  }
}
