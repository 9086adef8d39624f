#pragma once
// The hand-over between the matrix-element side (wavefunctions -> dipoles, oscillators) and the
// response side (chi0, Dyson). For each k-point of the full Brillouin zone, a TransitionBatch holds
// every transition t = (v, c, spin) at that k with what chi0 needs (q -> 0, YAMBO's conventions,
// doc/solver-matrix-elements.md):
//
//   chi0_GG'(ω) = Σ_t w_t conj(ρ_t(G)) ρ_t(G') F(ω, E_t)
//
// with ρ_t(0)/q0 = q̂ · head_t (linear in the field direction q̂, so one batch serves x, y, z, trace
// and any direction) and ρ_t(G) for the G ≠ 0 vectors of the block, in block order.
#include <Eigen/Dense>

#include <complex>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "io/qe/save.hpp"
#include "response/occupations.hpp"
#include "response/oscillators.hpp"

namespace rung::response {

using Complex = std::complex<double>;

// Insulators: transitions are ordered t = iv·n_conduction + ic (valence index slowest), the same at every k.
// Metals and spin-polarised runs: per spin channel (up first), the pairs (v, c) of the valence range (bands up to
// the highest partly occupied one) and the conduction range (from the lowest partly empty one) with c > v,
// f_v ≠ f_c and E_c − E_v above YAMBO's 1e-5 Ha zero-energy threshold; their number may differ between k-points.
struct TransitionBatch {
  int ik_full = 0;                 // index into the full-BZ list
  std::vector<int> valence, conduction;  // band indices (0-based), per transition
  std::vector<int> spin;           // spin channel per transition (0 unless lsda)
  std::vector<double> energy;      // E_t = E_c - E_v (Ha), > 0
  std::vector<double> weight;      // w_t = g (f_v − f_c) / (N_k Ω), g electrons per state; 2/(N_k Ω) for an
                                   // unpolarised insulator (f per state in [0, 1])
  Eigen::Matrix<Complex, Eigen::Dynamic, 3> head;  // nt x 3: ρ_t(0)/q0 = Σ_i q̂_i head(t, i)   (Bohr)
  Eigen::MatrixXcd body;           // nt x (nG - 1): ρ_t(G_b) = <c,k|e^{iG_b·r}|v,k>, b = 1..nG-1 of the block
  std::size_t size() const { return energy.size(); }
};

// A transition's row as a symmetry image of a stored row r (a k-point of the full BZ from its irreducible
// parent): head = (conj if head_conjugate) r_head · head_matrix, body column g = phase[g] · (conj if
// body_conjugate) r_body[source[g]]. The block of G-vectors is closed under the operation, so a column prefix
// (a sub-block) maps into itself.
struct RowImage {
  Eigen::Matrix3cd head_matrix = Eigen::Matrix3cd::Identity();
  bool head_conjugate = false;
  bool body_conjugate = false;
  std::vector<int> source;    // per body column (0-based body index), n_body entries
  std::vector<Complex> phase;  // per body column
};

struct TransitionOptions {
  int band_first = 0;              // 0-based, inclusive (YAMBO BndsRnXd(1) - 1)
  int band_last = -1;              // 0-based, inclusive; -1 = all bands of the save
  bool include_vnl = true;         // [V_nl, r] in the velocity (false = what QE's epsilon.x computes)
  // The body's convolution (response/oscillators.hpp): single for the fast route, whose chi0 is stored in
  // single precision anyway; double for the direct route and checks against references at double round-off.
  OscillatorPrecision body_precision = OscillatorPrecision::double_precision;
  // The G block (Miller indices w.r.t. the save's reciprocal vectors), block[0] must be (0,0,0).
  std::vector<Eigen::Vector3i> gblock{Eigen::Vector3i::Zero()};
  // Occupations (response/occupations.hpp); null = compute_occupations(save) with its defaults.
  std::shared_ptr<const Occupations> occupations;
};

// The G block `--gblock n_min` gives (gblock.hpp: select_gblock over the wavefunction sphere): the first `n_min`
// G-vectors by |G|, rounded up to the end of their closed shell (YAMBO's NGsBlkXd rule), G = 0 first; a block beyond
// the sphere by the same rule on a larger one (for tests of TransitionSource's refusal). n_min >= 1.
std::vector<Eigen::Vector3i> closed_shell_gblock(const qe::Save& save, int n_min);
// The number of G-vectors with |G|^2/2 <= ecutwfc: the largest block TransitionSource accepts (beyond the
// wavefunction sphere, the product of two wavefunctions is represented only partially, so ρ(G) would be
// truncated).
int max_gblock_size(const qe::Save& save);

// Produces the transition batches of a QE save. Wavefunctions are read (lazily) at the irreducible
// k-points and rotated to the full BZ with YAMBO's star rule (core/brillouin_zone.hpp).
class TransitionSource {
public:
  TransitionSource(const qe::Save& save, TransitionOptions options);
  ~TransitionSource();
  TransitionSource(TransitionSource&&) noexcept;
  TransitionSource& operator=(TransitionSource&&) noexcept;

  std::size_t n_full_kpoints() const;
  // How the k set samples the zone: a Monkhorst-Pack grid (or its wedge), or a uniform grid with any offset
  // listed point by point whose weights are spread over the stars (provenance text).
  const std::string& k_sampling() const;
  std::size_t n_irreducible_kpoints() const;
  double volume() const;                       // Bohr^3
  const TransitionOptions& options() const;
  // All transitions at full-BZ point ik_full. Thread-compatible; cost dominated by the oscillators.
  TransitionBatch batch(std::size_t ik_full);
  // The same as an image (transitions.hpp RowImage) of the unrotated batch of its irreducible parent
  // (full_kpoint(ik_full).ik_irreducible): batch(ik_full) == irreducible_batch(parent) mapped by image(ik_full).
  // chi0's compact oscillator table stores only the irreducible rows this way.
  TransitionBatch irreducible_batch(std::size_t ik_irr);
  RowImage image(std::size_t ik_full) const;
  // Full-BZ indices whose irreducible parent is `ik_irr` (so a rank can work irreducible-k by irreducible-k
  // and read each wavefunction file once).
  std::vector<std::size_t> star(std::size_t ik_irr) const;

  // --- Extensions (matrix-element side; see doc/solver-matrix-elements.md) ---
  // Where a full-BZ point comes from: k = s·S·k_irr (crystal coordinates of the save's reciprocal vectors,
  // reduced into [0,1)); `symmetry` indexes the save's symmetry list (0 = identity), s = time_reversal.
  struct FullKpoint {
    Eigen::Vector3d k_crystal;
    int ik_irreducible = 0, symmetry = 0, time_reversal = 1;
  };
  FullKpoint full_kpoint(std::size_t ik_full) const;
  int n_valence() const;     // valence bands in the window (transition t = v·n_conduction + c), spin channel 0 (>= 0)
  int n_conduction() const;  // conduction bands in the window, spin channel 0 (>= 0; both 0 if that channel is empty)
  const Occupations& occupations() const;
  // Drude: Σ over the star of irreducible point `ik_irr` of Σ_s Σ_n g (−∂f/∂ε) v_n v_nᵀ (occupations.hpp), with
  // −∂f/∂ε of Fermi–Dirac at kT about each channel's Fermi level (Occupations::level), over the bands it reaches:
  // the partly occupied ones and every band within 40 kT of the level at some k (e^-40 ~ 4e-18 of the peak), so a
  // Drude temperature above the occupations' loses no band (3x3 Cartesian, a.u.). Each star member is weighted by
  // the share of the zone it carries (1/N_k on a grid): summed over ik_irr, the zone average.
  Eigen::Matrix3d intraband_tensor(std::size_t ik_irr, double kT) const;
  // Drops the cached irreducible-k matrix elements (they are otherwise kept up to ~1 GB). intraband_tensor does not
  // use them (it reads the wavefunctions itself).
  void clear_cache();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rung::response
