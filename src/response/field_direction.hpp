#pragma once
// Which components of ε a run reports: the Cartesian x, y, z, the trace (mean of ε_xx, ε_yy, ε_zz: what
// the OPTIMATE model learns), or any Cartesian vector q̂ = (a, b, c) (only its direction matters, as in
// YAMBO's LongDrXd). All come from the same 3x3 tensors (dyson.hpp), so asking for several costs nothing.
#include <Eigen/Dense>

#include <string>
#include <vector>

namespace rung::response {

struct FieldDirection {
  std::string name;        // "x", "y", "z", "trace", or "q_a_b_c"
  bool trace = false;
  Eigen::Vector3d q = Eigen::Vector3d::Zero();  // as given (unnormalised); unused for the trace
};

// "x" | "y" | "z" | "trace" | "a,b,c" (also "a b c"); a zero or non-finite vector is a usage error.
FieldDirection parse_field_direction(const std::string& text);

}  // namespace rung::response
