#pragma once
// The G-vector block of the local-field (Dyson) problem, chosen as YAMBO does (doc/solver.md, --gblock): all G sorted
// by |G|, grouped into shells of equal |G| (tolerance 1e-5 Bohr⁻¹), G = 0 first; a count is rounded up
// to the end of the shell it falls in, an energy selects every shell up to the first one whose
// E_shell = |G|²/2 is at or above it. Closed shells keep the block invariant under the point group,
// which the rotation ρ_Sk(G) = ρ_k(S⁻¹G) needs.
#include <Eigen/Dense>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace rung::response {

struct GBlockRequest {
  bool by_energy = false;
  std::size_t count = 1;   // G-vectors (by_energy == false)
  double energy_Ha = 0;    // shell energy threshold (by_energy == true)
  std::string text;        // as given

  // "27", "27RL", "2Ry", "4000mRy", "1.5Ha", "1500mHa", "20eV" (case-insensitive units; a bare number is a
  // count). Anything else is a usage error.
  static GBlockRequest parse(const std::string& text);
  static GBlockRequest of_count(std::size_t n);
};

struct GBlock {
  std::vector<Eigen::Vector3i> miller;     // block order, miller[0] = (0,0,0)
  std::vector<double> norm;                // |G| (Bohr⁻¹)
  std::vector<std::size_t> shell_end;      // cumulative vector count at the end of each shell (1, 9, 15, ...)
  std::size_t size() const { return miller.size(); }
  double shell_energy_Ha() const { return 0.5 * norm.back() * norm.back(); }
  // v_b = 4π/|G_b|² for the G ≠ 0 vectors, in block order.
  std::vector<double> coulomb_body() const;
  // The leading sub-block of n vectors (n must end a shell).
  GBlock leading(std::size_t n) const;
};

// All closed shells with E_shell ≤ max_energy_Ha (the wavefunction cutoff: ecutwfc).
GBlock closed_shells(const Eigen::Matrix3d& reciprocal, double max_energy_Ha);

// The block for a request; exceeding the sphere E ≤ max_energy_Ha is bad input: fail_input(source, ...).
GBlock select_gblock(const Eigen::Matrix3d& reciprocal, const GBlockRequest& request, double max_energy_Ha,
                     const std::filesystem::path& source);

}  // namespace rung::response
