#pragma once
// `rung info` for a QE prefix.save: what the run contains, in the shared SystemSummary form.
#include "io/qe/save.hpp"
#include "io/system_summary.hpp"

#include <optional>

namespace rung::qe {

// Summary of a QE save: structure, k-points (with the full-zone count from YAMBO's unfolding rule),
// bands, electrons, KS gaps (insulators with at least one empty band), cutoffs, pseudopotentials.
SystemSummary summarize(const Save& save);

// The Kohn-Sham gaps of an insulator (Ha); nothing for metals or when no empty band was computed.
struct Gaps {
  double indirect = 0, direct = 0;
  double vbm = 0, cbm = 0;     // highest occupied / lowest unoccupied level
  int nocc = 0;                // occupied bands per spin channel (the first channel for lsda)
};
std::optional<Gaps> ks_gaps(const Save& save);

// The irreducible k-points in crystal coordinates of b1..b3.
std::vector<Eigen::Vector3d> k_crystal(const Save& save);
// The rotations acting on crystal k (inverse-transpose of QE's s), in file order.
std::vector<Eigen::Matrix3i> k_rotations(const Save& save);

}  // namespace rung::qe
