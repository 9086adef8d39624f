#include "response/field_direction.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "io/spectra/file.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace rung::response {

FieldDirection parse_field_direction(const std::string& text) {
  std::string l = lower(text);
  FieldDirection d;
  if (l == "trace") {
    d.name = "trace";
    d.trace = true;
    return d;
  }
  if (l == "x" || l == "y" || l == "z") {
    d.name = l;
    d.q[l[0] - 'x'] = 1.0;
    return d;
  }
  std::replace(l.begin(), l.end(), ',', ' ');
  std::istringstream in(l);
  double v[3];
  std::string rest;
  if (!(in >> v[0] >> v[1] >> v[2]) || (in >> rest))
    fail_usage("--direction must be x, y, z, trace or a Cartesian vector a,b,c; got '" + text + "'");
  d.q = Eigen::Vector3d(v[0], v[1], v[2]);
  if (!d.q.allFinite() || d.q.norm() == 0) fail_usage("--direction vector must be finite and non-zero: '" + text + "'");
  d.name = q_component_name({v[0], v[1], v[2]});
  return d;
}

}  // namespace rung::response
