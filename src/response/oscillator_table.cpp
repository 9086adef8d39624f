#include "response/oscillator_table.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rung::response {

namespace {
void reserve_rows(OscillatorTable& t, std::size_t need) {
  if (need <= static_cast<std::size_t>(t.rows.rows())) return;
  const std::size_t cap = std::max<std::size_t>(need, 2 * static_cast<std::size_t>(t.rows.rows()));
  OscillatorTable::Rows grown(static_cast<Eigen::Index>(cap), t.rows.cols());
  grown.topRows(static_cast<Eigen::Index>(t.used)) = t.rows.topRows(static_cast<Eigen::Index>(t.used));
  t.rows.swap(grown);
}
}  // namespace

void OscillatorTable::append(const TransitionBatch& b) {
  const std::size_t nt = b.size();
  if (nt == 0) return;
  if (b.weight.size() != nt || static_cast<std::size_t>(b.head.rows()) != nt)
    fail(fmt::format("transition batch at k {}: {} energies but {} weights and {} head rows", b.ik_full, nt,
                     b.weight.size(), b.head.rows()));
  if (n_body() > 0 && (static_cast<std::size_t>(b.body.rows()) != nt || b.body.cols() < n_body()))
    fail(fmt::format("transition batch at k {}: body is {}x{}, chi0 needs {}x{}", b.ik_full, b.body.rows(),
                     b.body.cols(), nt, n_body()));
  reserve_rows(*this, used + nt);
  for (std::size_t t = 0; t < nt; ++t) {
    const auto r = static_cast<Eigen::Index>(used + t);
    rows.block(r, 0, 1, 3) = b.head.row(static_cast<Eigen::Index>(t));
    if (n_body() > 0) rows.block(r, 3, 1, n_body()) = b.body.block(static_cast<Eigen::Index>(t), 0, 1, n_body());
  }
  energy.insert(energy.end(), b.energy.begin(), b.energy.end());
  weight.insert(weight.end(), b.weight.begin(), b.weight.end());
  used += nt;
}

void OscillatorTable::append(double e, double w, const Eigen::Ref<const Eigen::RowVectorXcd>& a) {
  if (a.size() != n_columns()) fail("OscillatorTable::append: row has the wrong length");
  reserve_rows(*this, used + 1);
  rows.row(static_cast<Eigen::Index>(used)) = a;
  energy.push_back(e);
  weight.push_back(w);
  ++used;
}

void OscillatorTable::shrink_to_fit() {
  if (static_cast<std::size_t>(rows.rows()) == used) return;
  Rows exact = rows.topRows(static_cast<Eigen::Index>(used));
  rows.swap(exact);
}

double OscillatorTable::max_energy() const {
  return energy.empty() ? 0.0 : *std::max_element(energy.begin(), energy.end());
}

}  // namespace rung::response
