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
#include <cstdint>
#include <utility>
#include <vector>

#include "response/transitions.hpp"

namespace rung {
class Progress;
}

namespace rung::response {

struct OscillatorTable {
  using Rows = Eigen::Matrix<Complex, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  // Dense tables: one row per transition. Compact tables (images non-empty): the stored rows of the
  // irreducible k-points; each transition is an image of one of them (source_row, image_of), generated when
  // chi0 reads it. A compact table of a symmetric crystal is N_k,full / N_k,irr times smaller.
  Rows rows;                   // (dense) nt x (3 + nb), (compact) stored rows x (3 + nb)
  std::vector<double> energy;  // Ha, per transition
  std::vector<double> weight;  // w_t, per transition
  std::size_t used = 0;        // transitions (rows filled when dense)
  std::size_t stored = 0;      // rows filled when compact
  std::vector<RowImage> images;
  std::vector<std::uint32_t> source_row, image_of;  // per transition (compact only)

  explicit OscillatorTable(int n_body = 0) : rows(0, 3 + n_body) {}
  int n_columns() const { return static_cast<int>(rows.cols()); }
  int n_body() const { return n_columns() - 3; }
  std::size_t size() const { return used; }
  bool compact() const { return !images.empty(); }

  // Appends a batch; its body must have n_body() columns (or more: the leading ones are kept).
  void append(const TransitionBatch& batch);
  // Appends one transition (tests, synthetic systems).
  void append(double energy_Ha, double weight, const Eigen::Ref<const Eigen::RowVectorXcd>& a);
  // Compact tables: stores the rows of `batch` (not yet transitions) and returns the index of its first row;
  // then append_images(first, batch, image) adds batch.size() transitions as images of those rows with
  // `batch`'s energies and weights. A table is dense or compact, not both.
  std::size_t store_rows(const TransitionBatch& batch);
  void append_images(std::size_t first_row, const TransitionBatch& batch, RowImage image);
  // Reserves room for `transitions` (and, compact, `stored_rows`) so that appending never reallocates.
  void reserve(std::size_t transitions, std::size_t stored_rows = 0);
  void shrink_to_fit();
  // Largest transition energy (0 if empty).
  double max_energy() const;

  // scale · (first n_cols columns of transition t's row) -> out, in double or rounded to single precision.
  template <class Real>
  void row(std::size_t t, int n_cols, double scale, std::complex<Real>* out) const {
    if (!compact()) {
      const Complex* r = rows.data() + t * static_cast<std::size_t>(rows.cols());
      for (int a = 0; a < n_cols; ++a) out[a] = std::complex<Real>(scale * r[a]);
      return;
    }
    image_row(t, n_cols, scale, out);
  }
  // The dense equivalent of a compact table (a copy of a dense one).
  Rows dense_rows() const;

private:
  template <class Real>
  void image_row(std::size_t t, int n_cols, double scale, std::complex<Real>* out) const;
};

// The table of the irreducible k-points [ik_first, ik_last) of `source` and their stars (every transition of
// those full-BZ points). Compact: the irreducible rows plus one RowImage per star member (what the fast route
// reads); dense: every row (the direct route's GEMMs read the rows in place). `progress`, when given, advances
// once per irreducible point.
OscillatorTable build_oscillator_table(TransitionSource& source, std::size_t ik_first, std::size_t ik_last, bool compact,
                                       rung::Progress* progress = nullptr);

// Every rank's table, concatenated in rank order, on every rank (a compact table stays compact: its stored
// rows and images are small). A single rank gets its own table back.
OscillatorTable gather_table(const OscillatorTable& mine, const Comm& comm);

// This rank's irreducible k-points [first, last): contiguous ranges holding about equal numbers of full-BZ
// points (the cost of the fast route's binning is proportional to the transitions, not to the irreducible points).
std::pair<std::size_t, std::size_t> balanced_kpoint_range(const TransitionSource& source, const Comm& comm);

}  // namespace rung::response
