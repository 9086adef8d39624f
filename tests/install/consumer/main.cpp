#include <core/metrics.hpp>
#include <core/version.hpp>

#include <cstdio>

int main() {
  std::vector<double> w{0, 1, 2}, y{1, 2, 1};
  const double sc = rung::similarity_coefficient(w, y, y);
  std::printf("rung %s, SC(y, y) = %.3f\n", rung::version_string, sc);
  return sc == 1.0 ? 0 : 1;
}
