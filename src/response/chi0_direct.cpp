#include "response/chi0_direct.hpp"

#include "core/error.hpp"
#include "core/progress.hpp"

#include <cblas.h>

#include <algorithm>

#include <fmt/format.h>

namespace rung::response {

Chi0 chi0_direct(const OscillatorTable& table, const std::vector<double>& omega, const FrequencyKernel& kernel,
                 const Comm& comm, int n_columns, bool show_progress) {
  const int n = n_columns < 0 ? table.n_columns() : n_columns;
  if (n > table.n_columns() || n < 3)
    fail(fmt::format("chi0_direct: {} columns asked for, the table has {} (need 3..{})", n, table.n_columns(),
                     table.n_columns()));
  // (every rank's whole chi0 and its expanded table: a rank that cannot allocate them fails every rank before the
  // sums below)
  Chi0 chi = agreed_on_every_rank(comm, [&] { return Chi0(n, omega); });
  const std::size_t nt = table.size();
  const int ld = table.n_columns();
  // The GEMMs read the rows in place: a compact table is expanded once.
  const OscillatorTable::Rows expanded =
      agreed_on_every_rank(comm, [&] { return table.compact() ? table.dense_rows() : OscillatorTable::Rows(); });
  const Complex* rows = table.compact() ? expanded.data() : table.rows.data();
  // Transitions in chunks so that the scaled copy stays small.
  constexpr std::size_t chunk = 4096;
  std::vector<Complex> scaled(std::min(nt, chunk) * n), c(static_cast<std::size_t>(n) * n);
  Progress progress("chi0 (direct)", omega.size(), show_progress && comm.is_root(), comm.size() == 1);
  for (std::size_t i = 0; i < omega.size(); ++i) {
    auto m = chi.at(i);
    for (std::size_t t0 = 0; t0 < nt; t0 += chunk) {
      const std::size_t k = std::min(chunk, nt - t0);
      for (std::size_t t = 0; t < k; ++t) {
        const Complex d = table.weight[t0 + t] * kernel(omega[i], table.energy[t0 + t]);
        const Complex* row = rows + (t0 + t) * ld;
        Complex* out = scaled.data() + t * n;
        for (int a = 0; a < n; ++a) out[a] = d * row[a];
      }
      const Complex one(1.0), beta(t0 == 0 ? 0.0 : 1.0);
      // Row-major: C (n x n) = A^H (n x k) * B (k x n), C_ab = Σ_t conj(A_ta) w F A_tb.
      cblas_zgemm(CblasRowMajor, CblasConjTrans, CblasNoTrans, n, n, static_cast<int>(k), &one,
                  rows + t0 * ld, ld, scaled.data(), n, &beta, c.data(), n);
    }
    if (nt == 0) std::fill(c.begin(), c.end(), Complex(0));
    comm.sum(c.data(), c.size());  // the ranks' transitions, summed in double precision before the store rounds
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) m(a, b) = Chi0Scalar(c[static_cast<std::size_t>(a) * n + b]);
    progress.advance();
  }
  progress.finish();
  return chi;
}

}  // namespace rung::response
