#pragma once
// Brillouin-zone geometry shared by the readers and the solver: unfolding an irreducible k set to the
// full zone with YAMBO's star rule, and recognising uniform Monkhorst-Pack grids.
//
// Coordinates: k-points in crystal (reduced) coordinates of the reciprocal vectors b1..b3, i.e.
// k_cart = κ1 b1 + κ2 b2 + κ3 b3. A rotation "acting on k in crystal coordinates" is the integer matrix
// M_k with κ' = M_k κ. QE's s matrices (rung::qe::SymmetryOp::rotation) act on the crystal coordinates
// of positions, x' = M_r x; for the same Cartesian rotation M_k = M_r^{-T} (use k_rotation()).
#include <Eigen/Dense>

#include <array>
#include <optional>
#include <vector>

namespace rung::bz {

// M_k = (M_r^{-1})^T for an integer unimodular M_r (exact: uses the adjugate).
Eigen::Matrix3i k_rotation(const Eigen::Matrix3i& position_rotation);

// Reduces each component into [0, 1) (values within `tol` of 1 become 0).
Eigen::Vector3d reduce01(const Eigen::Vector3d& k, double tol = 1e-6);

struct FullZonePoint {
  Eigen::Vector3d k;   // crystal coordinates, each component in [0, 1)
  int ik_ibz = 0;      // 0-based index of the irreducible point it comes from
  int isym = 0;        // 0-based index into the rotation list
  int time_reversal = 1;  // +1, or -1 when k = -R k_ibz
};

// YAMBO's rule (k_expand): for each irreducible k in order, the operations in YAMBO's order, i.e.
// first every rotation R (list order) with s = +1, then, when `time_reversal`, every R with s = -1;
// k' = s R k reduced into [0,1); a k' equal (mod G, within `tol`) to a point already in the same star
// is dropped (the first generator is kept). Points of different stars are never merged (a proper
// irreducible set has disjoint stars; see `merge_across_stars` for sets that do not).
// `rotations` act on k in crystal coordinates (see k_rotation()).
std::vector<FullZonePoint> unfold(const std::vector<Eigen::Vector3d>& k_ibz_crystal,
                                  const std::vector<Eigen::Matrix3i>& rotations, bool time_reversal,
                                  double tol = 1e-5, bool merge_across_stars = false);

// Uniform grid detection. A k set (crystal coordinates, any reduction) is a uniform Monkhorst-Pack grid
// n1 x n2 x n3 with QE shift (k1,k2,k3) in {0,1} when, reduced into [0,1), it is exactly the set
// {(i + k1/2)/n1, ...} (every point once). Returns nothing otherwise.
struct GridInfo {
  std::array<int, 3> n{0, 0, 0};
  std::array<int, 3> shift{0, 0, 0};
};
std::optional<GridInfo> detect_mp_grid(const std::vector<Eigen::Vector3d>& k_crystal, double tol = 1e-5,
                                       int max_n = 200);

// A uniform grid with any offset, as an explicit k list may give it: the points, reduced into [0,1), are
// exactly {((i1 + o1)/n1, (i2 + o2)/n2, (i3 + o3)/n3)} with one offset o_d in [0,1) per direction and every
// combination once (the smallest n_d that fits). A Monkhorst-Pack grid is the case o_d in {0, 1/2}.
struct UniformGrid {
  std::array<int, 3> n{0, 0, 0};
  Eigen::Vector3d offset = Eigen::Vector3d::Zero();
};
std::optional<UniformGrid> detect_uniform_grid(const std::vector<Eigen::Vector3d>& k_crystal, double tol = 1e-5,
                                               int max_n = 200);

// The points of an n1 x n2 x n3 grid with shift (0/1 each), in QE's order (i slowest), in [0,1).
std::vector<Eigen::Vector3d> mp_grid_points(const GridInfo& grid);

// Cartesian (Bohr^-1) <-> crystal, with `reciprocal` holding b1..b3 as rows.
Eigen::Vector3d to_crystal(const Eigen::Vector3d& k_cart, const Eigen::Matrix3d& reciprocal);
Eigen::Vector3d to_cartesian(const Eigen::Vector3d& k_crystal, const Eigen::Matrix3d& reciprocal);

}  // namespace rung::bz
