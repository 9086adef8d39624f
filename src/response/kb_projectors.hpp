#pragma once
// Kleinman-Bylander projectors of norm-conserving UPF pseudopotentials in the plane-wave basis, for the
// non-local part of the velocity operator v = p + i[V_nl, r] = ∂H_k/∂k (doc/solver-matrix-elements.md,
// Method). With plane waves e^{i(k+G)·r}/sqrt(Ω) and atoms at τ_a:
//
//   V_nl = Σ_a Σ_{i,j,m} |β_{a,i,m}> D_ij <β_{a,j,m}|,
//   β_{a,i,m}(q) = (4π/sqrt(Ω)) f_i(|q|) Y_{l_i m}(q̂) e^{-iG·τ_a},   q = k + G,
//   f_i(q) = ∫ r (rβ_i)(r) j_l(qr) dr   (UPF mesh, QE's Simpson rule with PP_RAB weights),
//
// D_ij = PP_DIJ converted Ry -> Ha. The phase uses G, not k+G: the common factor e^{-ik·τ_a} cancels in
// every product conj(P^v) D P^c and in its k-derivative, so both conventions give the same velocity.
// The (-i)^l of the true Fourier transform cancels the same way.
//
// The radial factor is tabulated as g_i(q) = f_i(q)/q^l (smooth and even), so that
// f_i Y_lm = g_i(|q|) S_lm(q) with the solid harmonic S_lm = |q|^l Y_lm. Its gradient
// ∇_q (g S) = (g'(|q|)/|q|) q S + g ∇S has no 1/|q| singularity: at k+G = 0 the p-channel derivative
// is the exact limit (YAMBO skips |k+G| < 1e-5 entirely; it only matters at k = Γ).
#include <Eigen/Dense>

#include <array>
#include <complex>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "io/qe/save.hpp"

namespace rung::response {

// g(q) = f(q)/q^l and G1(q) = g'(q)/q of one projector on a uniform q grid (cubic Hermite interpolation
// with exact derivative tables, error ~ dq^4).
class RadialFormFactor {
public:
  RadialFormFactor() = default;
  // r, rab: UPF mesh and weights; rbeta: r*beta(r) (first `rbeta.size()` points are used).
  RadialFormFactor(int l, const std::vector<double>& r, const std::vector<double>& rab,
                   const std::vector<double>& rbeta, double q_max, double dq = 0.01);
  int l() const { return l_; }
  double q_max() const { return dq_ * double(g_.size() - 1); }
  // g(q) and g'(q)/q, interpolated. q in [0, q_max()].
  void evaluate(double q, double& g, double& g1_over_q) const;
  // The same by direct radial integration (for tests; ~mesh-size cost per call).
  static void integrate(int l, const std::vector<double>& r, const std::vector<double>& rab,
                        const std::vector<double>& rbeta, double q, double& g, double& g1_over_q, double& g2);

private:
  int l_ = 0;
  double dq_ = 0.01;
  std::vector<double> g_, g1_, g2_;  // g, g'/q, (g'/q)'/q at the nodes
};

// Spherical Bessel function divided by x^l, h_l(x) = j_l(x)/x^l, for l = 0..max (accurate at x -> 0).
void bessel_over_power(int l_max, double x, double* out);

// QE's simpson(): Simpson's rule with the mesh weights rab over the first n points (n odd; an even n
// drops the last point, as QE does).
double simpson(const double* f, const double* rab, int n);

// Projector channels of every atom, their coupling matrix D (Ha) and their plane-wave representation.
class KBProjectors {
public:
  struct Channel {
    int atom = 0, beta = 0, l = 0, m = 0;
    double j = 0;  // l ± 1/2 for a fully relativistic projector, else 0
  };
  // Reads each species' UPF (norm-conserving only: ultrasoft/PAW -> fail_input naming the file) and
  // tabulates the form factors up to q_max (Bohr^-1; use sqrt(2 ecutwfc) plus a margin).
  KBProjectors(const qe::Save& save, double q_max);

  std::size_t size() const { return channels_.size(); }
  const std::vector<Channel>& channels() const { return channels_; }
  const Eigen::MatrixXd& coupling() const { return d_; }  // nproj x nproj, Ha, block diagonal per atom
  // Two-component spinors (noncollinear runs): the coupling between β_i σ and β_j σ', a 2 nproj square matrix
  // with index σ nproj + i (σ = 0 ↑, 1 ↓). Spin-diagonal D_ij for scalar-relativistic species; for fully
  // relativistic ones in a spin-orbit run D_ij (P_j)_{(σ m_i),(σ' m_j)} between projectors of the same l and j
  // (response/spin_angular.hpp, QE's D^so = D fcoef). Empty unless the save is noncollinear.
  const Eigen::MatrixXcd& spin_coupling() const { return d_spin_; }
  bool spin_orbit() const { return spin_orbit_; }  // some species has j-dependent projectors

  // β(k+G) for every plane wave (rows, in `miller` order) and channel (columns), and its k-gradient.
  struct PlaneWaveProjectors {
    Eigen::MatrixXcd beta;                 // ngw x nproj
    std::array<Eigen::MatrixXcd, 3> dbeta; // ∂β/∂k_α, ngw x nproj
  };
  PlaneWaveProjectors plane_waves(const Eigen::Vector3d& k_cart,
                                  const Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor>& miller) const;

private:
  std::vector<Channel> channels_;
  std::vector<std::vector<RadialFormFactor>> form_factors_;  // [species][beta]
  std::vector<std::string> species_names_;                   // [species]: "label (UPF file)", for messages
  std::vector<int> atom_species_;
  std::vector<Eigen::Vector3d> tau_;  // Cartesian Bohr
  // A YAMBO SAVE: p2y's tables KB(|k+G|), dKB/d|k+G| per k-point and wavefunction component (ns.kb_pp_pwscf*)
  // instead of the UPF form factors: β = KB/|q|^l S_lm(q) e^{-iG·τ}, D = the table's sign (PP_KBS).
  struct Tables;
  std::shared_ptr<const Tables> tables_;
  void from_yambo_save(const qe::Save& save);

  Eigen::Matrix3d reciprocal_;
  double prefactor_ = 0;              // 4π/sqrt(Ω)
  Eigen::MatrixXd d_;
  Eigen::MatrixXcd d_spin_;
  bool spin_orbit_ = false;
};

}  // namespace rung::response
