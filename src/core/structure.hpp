#pragma once
// A periodic crystal structure: what the readers produce and the graph builder and solver consume.
// Lengths in Bohr; lattice vectors are the ROWS of `lattice`.
#include <Eigen/Dense>

#include <string>
#include <vector>

namespace rung {

struct Structure {
  Eigen::Matrix3d lattice = Eigen::Matrix3d::Zero();  // rows a1, a2, a3 (Bohr)
  std::vector<Eigen::Vector3d> frac;                  // fractional coordinates
  std::vector<int> numbers;                           // atomic numbers
  std::string id;                                     // material id or file name (provenance)

  std::size_t size() const { return numbers.size(); }
  double volume() const;                     // Bohr^3, > 0
  Eigen::Matrix3d reciprocal() const;        // rows b_i with a_i·b_j = 2π δ_ij (Bohr^-1)
  Eigen::Vector3d cartesian(std::size_t i) const;  // Bohr
  std::string formula() const;               // reduced Hill-like formula sorted by electronegativity order: e.g. "Si", "GaAs"
  // Checks: non-empty, right-handed or left-handed non-degenerate cell, known elements, atoms at least
  // `min_distance_bohr` apart (periodic images included). Throws fail_input(origin, ...).
  void validate(const std::string& origin, double min_distance_bohr = 0.5) const;
};

}  // namespace rung
