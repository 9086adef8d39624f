#include "response/spherical_harmonics.hpp"

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace rung::response {

namespace {
constexpr double pi = std::numbers::pi;
}

double solid_harmonic(int l, int m, const Eigen::Vector3d& q, Eigen::Vector3d* grad) {
  const double x = q[0], y = q[1], z = q[2];
  Eigen::Vector3d g = Eigen::Vector3d::Zero();
  double v = 0;
  switch (l * 10 + m) {
    case 0: {  // 1/sqrt(4π)
      v = 0.5 / std::sqrt(pi);
      break;
    }
    // l = 1: sqrt(3/4π) (y, z, x)
    case 10: { const double c = std::sqrt(3.0 / (4 * pi)); v = c * y; g = {0, c, 0}; break; }
    case 11: { const double c = std::sqrt(3.0 / (4 * pi)); v = c * z; g = {0, 0, c}; break; }
    case 12: { const double c = std::sqrt(3.0 / (4 * pi)); v = c * x; g = {c, 0, 0}; break; }
    // l = 2
    case 20: { const double c = std::sqrt(15.0 / (4 * pi)); v = c * x * y; g = {c * y, c * x, 0}; break; }
    case 21: { const double c = std::sqrt(15.0 / (4 * pi)); v = c * y * z; g = {0, c * z, c * y}; break; }
    case 22: {
      const double c = std::sqrt(5.0 / (16 * pi));
      v = c * (2 * z * z - x * x - y * y);
      g = {-2 * c * x, -2 * c * y, 4 * c * z};
      break;
    }
    case 23: { const double c = std::sqrt(15.0 / (4 * pi)); v = c * x * z; g = {c * z, 0, c * x}; break; }
    case 24: {
      const double c = std::sqrt(15.0 / (16 * pi));
      v = c * (x * x - y * y);
      g = {2 * c * x, -2 * c * y, 0};
      break;
    }
    // l = 3
    case 30: {
      const double c = std::sqrt(35.0 / (32 * pi));
      v = c * y * (3 * x * x - y * y);
      g = {6 * c * x * y, c * (3 * x * x - 3 * y * y), 0};
      break;
    }
    case 31: {
      const double c = std::sqrt(105.0 / (4 * pi));
      v = c * x * y * z;
      g = {c * y * z, c * x * z, c * x * y};
      break;
    }
    case 32: {
      const double c = std::sqrt(21.0 / (32 * pi));
      v = c * y * (4 * z * z - x * x - y * y);
      g = {-2 * c * x * y, c * (4 * z * z - x * x - 3 * y * y), 8 * c * y * z};
      break;
    }
    case 33: {
      const double c = std::sqrt(7.0 / (16 * pi));
      v = c * z * (2 * z * z - 3 * x * x - 3 * y * y);
      g = {-6 * c * x * z, -6 * c * y * z, c * (6 * z * z - 3 * x * x - 3 * y * y)};
      break;
    }
    case 34: {
      const double c = std::sqrt(21.0 / (32 * pi));
      v = c * x * (4 * z * z - x * x - y * y);
      g = {c * (4 * z * z - 3 * x * x - y * y), -2 * c * x * y, 8 * c * x * z};
      break;
    }
    case 35: {
      const double c = std::sqrt(105.0 / (16 * pi));
      v = c * z * (x * x - y * y);
      g = {2 * c * x * z, -2 * c * y * z, c * (x * x - y * y)};
      break;
    }
    case 36: {
      const double c = std::sqrt(35.0 / (32 * pi));
      v = c * x * (x * x - 3 * y * y);
      g = {c * (3 * x * x - 3 * y * y), -6 * c * x * y, 0};
      break;
    }
    default:
      fail("solid_harmonic: l = " + std::to_string(l) + ", m = " + std::to_string(m) + " is out of range (l <= 3)");
  }
  if (grad) *grad = g;
  return v;
}

}  // namespace rung::response
