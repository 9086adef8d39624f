#pragma once
// Every transition a rank owns, as one row each, ready for chi0: the "augmented oscillator"
//
//   a_t = [ head_t,x, head_t,y, head_t,z, ρ_t(G_1), ..., ρ_t(G_nb) ]      (n = 3 + nb columns)
//
// with head_t·q̂ = ρ_t(0)/q0. chi0 is then built once over this basis, M_ab(ω) = Σ_t w_t conj(a_ta) a_tb F(ω, E_t),
// and any field direction q̂ (x, y, z, trace, or a vector) follows by contracting the first three indices
// with q̂: heads/wings are linear in q̂, the body does not depend on it (see dyson.hpp).
// The G block columns keep the block order (shells sorted by |G|), so the first 3 + nb' columns are the
// table of the sub-block of nb' + 1 G-vectors: convergence studies reuse one table.
#include <Eigen/Dense>

#include <complex>
#include <vector>

#include "response/transitions.hpp"

namespace rung::response {

struct OscillatorTable {
  using Rows = Eigen::Matrix<Complex, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Rows rows;                   // nt x (3 + nb)
  std::vector<double> energy;  // Ha
  std::vector<double> weight;  // w_t
  std::size_t used = 0;        // rows filled (rows grows geometrically)

  explicit OscillatorTable(int n_body = 0) : rows(0, 3 + n_body) {}
  int n_columns() const { return static_cast<int>(rows.cols()); }
  int n_body() const { return n_columns() - 3; }
  std::size_t size() const { return used; }

  // Appends a batch; its body must have n_body() columns (or more: the leading ones are kept).
  void append(const TransitionBatch& batch);
  // Appends one transition (tests, synthetic systems).
  void append(double energy_Ha, double weight, const Eigen::Ref<const Eigen::RowVectorXcd>& a);
  void shrink_to_fit();
  // Largest transition energy (0 if empty).
  double max_energy() const;
};

}  // namespace rung::response
