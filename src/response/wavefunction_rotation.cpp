#include "response/wavefunction_rotation.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "core/brillouin_zone.hpp"
#include "core/error.hpp"
#include "response/oscillators.hpp"

namespace rung::response {

namespace {
constexpr double two_pi = 2.0 * std::numbers::pi;

bool is_integer_vector(const Eigen::Vector3d& v, double tol) {
  return ((v.array() - v.array().round()).abs() < tol).all();
}

// Does x -> R x + f map every atom onto an atom of the same species (mod lattice)?
bool maps_crystal(const qe::Save& save, const Eigen::Matrix3i& R, const Eigen::Vector3d& f) {
  const auto& st = save.structure;
  for (std::size_t a = 0; a < st.size(); ++a) {
    const Eigen::Vector3d y = R.cast<double>() * st.frac[a] + f;
    bool found = false;
    for (std::size_t b = 0; b < st.size() && !found; ++b)
      found = save.atom_species[a] == save.atom_species[b] && is_integer_vector(y - st.frac[b], 1e-4);
    if (!found) return false;
  }
  return true;
}
}  // namespace

SpaceGroupOp identity_op() {
  SpaceGroupOp op;
  op.rotation.setIdentity();
  op.k_rotation.setIdentity();
  op.cartesian.setIdentity();
  return op;
}

std::vector<SpaceGroupOp> space_group_ops(const qe::Save& save) {
  std::vector<SpaceGroupOp> ops;
  if (save.no_symmetry || save.symmetries.empty()) {
    ops.push_back(identity_op());
    return ops;
  }
  const Eigen::Matrix3d A = save.structure.lattice;  // rows a_i
  for (std::size_t i = 0; i < save.symmetries.size(); ++i) {
    const auto& s = save.symmetries[i];
    SpaceGroupOp op;
    op.rotation = s.rotation;
    if (std::abs(s.rotation.cast<double>().determinant()) != 1.0)
      fail_input(save.xml, "symmetry " + std::to_string(i + 1) + " is not a unimodular integer matrix");
    op.k_rotation = bz::k_rotation(s.rotation);
    // Cartesian: x_cart = A^T x, so R_cart = A^T R A^{-T}.
    op.cartesian = A.transpose() * s.rotation.cast<double>() * A.transpose().inverse();
    if (!(op.cartesian * op.cartesian.transpose()).isIdentity(1e-6))
      fail_input(save.xml, "symmetry " + std::to_string(i + 1) + " is not a rotation of the lattice");
    const Eigen::Vector3d f = s.fractional_translation;
    if (maps_crystal(save, s.rotation, f)) {
      op.translation = f;
    } else if (maps_crystal(save, s.rotation, -f)) {
      op.translation = -f;
    } else {
      fail_input(save.xml, "symmetry " + std::to_string(i + 1) + " (" + s.name +
                               ") does not map the crystal onto itself with its fractional translation");
    }
    ops.push_back(op);
  }
  return ops;
}

BlockRotation rotate_block(const std::vector<Eigen::Vector3i>& block, const SpaceGroupOp& op, int time_reversal) {
  BlockRotation out;
  out.conjugate = time_reversal < 0;
  const int n = int(block.size());
  out.source.resize(n);
  out.phase.resize(n);
  // Lookup of the block itself.
  MillerMatrix m(n, 3);
  for (int b = 0; b < n; ++b) m.row(b) = block[b].transpose();
  const MillerLookup lookup(m);
  const Eigen::Matrix3i inverse = op.rotation.transpose();  // (R^{-T})^{-1} = R^T on Miller indices
  for (int b = 0; b < n; ++b) {
    Eigen::Vector3i src = inverse * block[b];
    if (time_reversal < 0) src = -src;
    const int j = lookup.find(src);
    if (j < 0)
      fail_usage("the G block is not closed under the symmetry operations (G = " + std::to_string(block[b][0]) + " " +
                 std::to_string(block[b][1]) + " " + std::to_string(block[b][2]) +
                 " has no rotated partner): extend it to complete shells");
    out.source[b] = j;
    out.phase[b] = std::polar(1.0, two_pi * block[b].cast<double>().dot(op.translation));
  }
  return out;
}

qe::Wavefunction rotate_wavefunction(const qe::Wavefunction& wf, const SpaceGroupOp& op, int time_reversal,
                                     const Eigen::Matrix3d& reciprocal) {
  if (wf.npol != 1) fail("rotate_wavefunction: spinor wavefunctions are not supported");
  qe::Wavefunction out = wf;
  const Eigen::Vector3d kappa = bz::to_crystal(wf.k_cart, reciprocal);
  const Eigen::Vector3d kappa_rot = op.k_rotation.cast<double>() * kappa;  // crystal coordinates of S k
  for (Eigen::Index i = 0; i < wf.miller.rows(); ++i) {
    const Eigen::Vector3i m = wf.miller.row(i).transpose();
    const Eigen::Vector3i mr = op.k_rotation * m;
    // c_{Sk}(S G) = e^{-i(Sk + S G)·f} c_k(G)
    const std::complex<double> ph = std::polar(1.0, -two_pi * (kappa_rot + mr.cast<double>()).dot(op.translation));
    out.coefficients.row(i) = wf.coefficients.row(i) * ph;
    out.miller.row(i) = (time_reversal < 0 ? Eigen::Vector3i(-mr) : mr).transpose();
  }
  if (time_reversal < 0) out.coefficients = out.coefficients.conjugate().eval();
  out.k_cart = double(time_reversal < 0 ? -1 : 1) * (op.cartesian * wf.k_cart);
  return out;
}

}  // namespace rung::response
