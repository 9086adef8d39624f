#include "response/chi0_spectral.hpp"

#include "core/error.hpp"
#include "core/large_allocator.hpp"
#include "core/progress.hpp"
#include "core/thread_pools.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <exception>
#include <numeric>

#include <fmt/format.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace rung::response {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The spectral function S_ab(E_j) of a tile, in single precision: each bin's value is the sum of its transitions
// (with a body, a CGEMM of their rows rounded to single precision: a few tens of terms, relative error ~1e-7, as
// chi0 itself is stored, chi0.hpp; the IPA's head alone, a ZGEMM rounded once); the Hilbert transform runs in
// double. Half the memory of the tile (fewer tiles, so fewer regenerated rows in the binning), half the bytes the
// transform reads, and twice the binning's flop rate (on NaGaClBr at 307 G the binning took 20 % less than with a
// ZGEMM rounded afterwards; SC 0.99999994 between the two spectra).
using SpectralScalar = std::complex<float>;

// BLAS for the two precisions of a bin's sum (row-major, A^H·B and the upper triangle of A^H·A).
void gemm_ch(int m, int n, int k, const std::complex<float>* a, const std::complex<float>* b, int ld,
             std::complex<float>* c, int ldc) {
  const std::complex<float> one(1.0f), zero(0.0f);
  cblas_cgemm(CblasRowMajor, CblasConjTrans, CblasNoTrans, m, n, k, &one, a, ld, b, ld, &zero, c, ldc);
}
void gemm_ch(int m, int n, int k, const std::complex<double>* a, const std::complex<double>* b, int ld,
             std::complex<double>* c, int ldc) {
  const std::complex<double> one(1.0), zero(0.0);
  cblas_zgemm(CblasRowMajor, CblasConjTrans, CblasNoTrans, m, n, k, &one, a, ld, b, ld, &zero, c, ldc);
}
void herk_upper(int n, int k, const std::complex<float>* a, int ld, std::complex<float>* c, int ldc) {
  cblas_cherk(CblasRowMajor, CblasUpper, CblasConjTrans, n, k, 1.0f, a, ld, 0.0f, c, ldc);
}
void herk_upper(int n, int k, const std::complex<double>* a, int ld, std::complex<double>* c, int ldc) {
  cblas_zherk(CblasRowMajor, CblasUpper, CblasConjTrans, n, k, 1.0, a, ld, 0.0, c, ldc);
}

// C_ab = Σ_t conj(a_ta) a_tb over k scaled rows of length b1, for a < b0 ≤ b (GEMM) and b0 ≤ a ≤ b (HERK, upper
// triangle): c holds b1 rows of `width` = b1 - b0 columns.
template <class Real>
void bin_gram(int b0, int b1, int k, const std::complex<Real>* rows, std::complex<Real>* c) {
  const int width = b1 - b0;
  if (b0 > 0) gemm_ch(b0, width, k, rows, rows + b0, b1, c, width);
  herk_upper(width, k, rows + b0, b1, c + static_cast<std::size_t>(b0) * width, width);
}

// The binning sums at most this many consecutive bins before writing them into S (see chi0_spectral).
constexpr std::size_t max_bin_group = 16;

// One transition's share of a bin.
struct BinEntry {
  std::size_t t;
  double weight;  // w_t times the linear-interpolation fraction
};

}  // namespace

Chi0 chi0_spectral(const OscillatorTable& local_table, const std::vector<double>& omega, const FrequencyKernel& kernel,
                   const Comm& comm, const SpectralOptions& options, int n_columns, SpectralInfo* info,
                   bool show_progress) {
  const auto t_setup = std::chrono::steady_clock::now();
  const SerialBlasScope serial_blas;  // the binning calls BLAS from OpenMP threads
  const int n = n_columns < 0 ? local_table.n_columns() : n_columns;
  if (n > local_table.n_columns() || n < 3)
    fail(fmt::format("chi0_spectral: {} columns asked for, the table has {} (need 3..{})", n, local_table.n_columns(),
                     local_table.n_columns()));
  const std::size_t nw = omega.size();
  const int n_ranks = comm.size(), me = comm.rank();
  // Every rank needs every transition (it owns a share of the matrix elements, not of the transitions): the
  // ranks' tables are gathered (a compact table is a few MB).
  const auto t_gather = std::chrono::steady_clock::now();
  const OscillatorTable gathered = n_ranks > 1 ? gather_table(local_table, comm) : OscillatorTable();
  const double seconds_gather = seconds_since(t_gather);
  const OscillatorTable& table = n_ranks > 1 ? gathered : local_table;
  // The binning places each transition by its energy and sums rows scaled by √w_t: finite energies and weights
  // w_t >= 0 only (every rank checks the same gathered table, so all of them raise it).
  for (std::size_t t = 0; t < table.size(); ++t) {
    if (!std::isfinite(table.energy[t]))
      fail(fmt::format("chi0_spectral: transition {} has the energy {} Ha (must be finite)", t, table.energy[t]));
    if (!(table.weight[t] >= 0) || !std::isfinite(table.weight[t]))
      fail(fmt::format("chi0_spectral: transition {} has the weight {} (must be finite and >= 0)", t, table.weight[t]));
  }

  const SpectralGrid grid = SpectralGrid::make(omega, kernel.eta(), options.points_per_eta, table.max_energy());
  const std::size_t nb = grid.n_bins;
  // The same FFTW plan kind on every rank count (the choice depends on the total number of transforms).
  const SpectralTransform transform(kernel, omega, grid, static_cast<std::size_t>(n) * (n + 1) / 2);

  // Bin the transitions: entries grouped by bin (counting sort).
  std::vector<std::size_t> start(nb + 1, 0);
  std::vector<std::pair<std::size_t, double>> where(table.size());  // (bin j, fraction f): E = E_j + fΔ
  // A pole below the lattice's origin e0 (0 <= e0 < Δ; e0 > 0 where emin is not a multiple of Δ) goes to e0. In the
  // retarded form a pole's response vanishes linearly as E -> 0 (1/(ω−E+iη) − 1/(ω+E+iη) ≈ 2E/(ω+iη)²), so its
  // weight is scaled by E/e0 there: a metal's near-degenerate pairs (weight ∝ 1/E) would otherwise count e0/E times
  // over. (Time-ordered poles do not vanish at E = 0; below e0 they occur only there, at E < Δ.)
  std::vector<double> below_origin_scale(table.size(), 1.0);
  for (std::size_t t = 0; t < table.size(); ++t) {
    const double x = (table.energy[t] - grid.e0) / grid.delta;
    std::size_t j = x <= 0 ? 0 : static_cast<std::size_t>(std::floor(x));
    double f = x <= 0 ? 0.0 : x - double(j);
    if (x < 0 && grid.e0 > 0 && kernel.ordering() == Ordering::retarded)
      below_origin_scale[t] = std::max(0.0, table.energy[t]) / grid.e0;
    if (j >= nb - 1) j = nb - 2, f = 1.0;  // the top edge (rounding)
    where[t] = {j, f};
    ++start[j + 1];
    ++start[j + 2 <= nb ? j + 2 : nb];
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<BinEntry> entries(start.back());
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t t = 0; t < table.size(); ++t) {
      const auto [j, f] = where[t];
      const double w = table.weight[t] * below_origin_scale[t];
      entries[fill[j]++] = {t, w * (1.0 - f)};
      entries[fill[j + 1]++] = {t, w * f};
    }
  }
  std::size_t max_in_bin = 0;
  for (std::size_t j = 0; j < nb; ++j) max_in_bin = std::max(max_in_bin, start[j + 1] - start[j]);

  // Matrix elements (a, b), a ≤ b, of the upper triangle by columns. Rank r owns the columns
  // [col_begin[r], col_begin[r + 1]) (about equal shares of the cost below) and computes their spectral function
  // from all transitions. Each rank's columns are cut into the same number of tiles (each within tile_bytes),
  // so that the ranks exchange tile by tile.
  auto elements_before = [](std::size_t b) { return b * (b + 1) / 2; };  // elements of columns [0, b)
  // The binning of a tile costs, per transition, one GEMM row per element of the tile and the tile's leading
  // rows (table.row over all b1 columns up to its last one). A tile of about E elements ending near column b is
  // about E / (b + 1) columns wide, so column b costs (b + 1) + row_cost (b + 1)² / E in all. The ranks get equal
  // shares of that cost: with equal shares of elements the rank of the last columns binned 15 % longer (113-G Si
  // on two ranks, 0.44 against 0.38 s). row_cost: a row entry against an element's binning and transform
  // together (the transform, about twice the binning, costs the same for every element); 4 (the binning
  // alone) overshot on that run, 1 balanced it within the run-to-run noise.
  // A tile's bytes per element: its spectral function and, with several ranks, its share of the exchange
  // buffers (the element's values at the other ranks' frequencies, sent and received: two numbers each).
  const std::size_t bytes_per_element =
      nb * sizeof(SpectralScalar) + (n_ranks > 1 ? 2 * 2 * sizeof(Chi0Scalar) * (nw - nw / std::size_t(n_ranks)) : 0);
  std::vector<int> col_begin(n_ranks + 1, n);
  {
    constexpr double row_cost = 1.0;
    const double total_el = double(elements_before(std::size_t(n)));
    const double tile_el = std::max(1.0, std::min(double(options.tile_bytes / bytes_per_element), total_el / n_ranks));
    std::vector<double> cum(std::size_t(n) + 1, 0.0);  // cost of columns [0, b)
    for (int b = 0; b < n; ++b)
      cum[std::size_t(b) + 1] =
          cum[std::size_t(b)] + double(b + 1) + row_cost * double(b + 1) * double(b + 1) / tile_el;
    for (int r = 0; r < n_ranks; ++r) {
      const double target = cum.back() * double(r) / double(n_ranks);
      int b = 0;
      while (b < n && cum[std::size_t(b)] < target) ++b;
      col_begin[r] = b;
    }
    col_begin[n_ranks] = n;
  }
  std::size_t n_tiles = 1;
  for (int r = 0; r < n_ranks; ++r) {
    const std::size_t el = elements_before(std::size_t(col_begin[r + 1])) - elements_before(std::size_t(col_begin[r]));
    // at least one column per tile; a column alone may exceed tile_bytes
    const std::size_t need = (el * bytes_per_element + options.tile_bytes - 1) / std::max<std::size_t>(options.tile_bytes, 1);
    n_tiles = std::max(n_tiles, std::min<std::size_t>(need, std::size_t(col_begin[r + 1] - col_begin[r])));
  }
  // Tile t of rank r: columns [tile_begin(r, t), tile_begin(r, t + 1)), cut at equal shares of the rank's elements.
  auto tile_begin = [&](int r, std::size_t t) {
    const int c0 = col_begin[r], c1 = col_begin[r + 1];
    if (t >= n_tiles) return c1;
    const double e0 = double(elements_before(std::size_t(c0))), e1 = double(elements_before(std::size_t(c1)));
    const double target = e0 + (e1 - e0) * double(t) / double(n_tiles);
    int b = c0;
    while (b < c1 && double(elements_before(std::size_t(b))) < target) ++b;
    return b;
  };
  // Frequencies: rank r holds comm.block(nw) of rank r (what solve_dyson works on).
  auto block_of = [](std::size_t count, int r, int p) {
    const std::size_t base = count / std::size_t(p), extra = count % std::size_t(p), ur = std::size_t(r);
    const std::size_t begin = ur * base + std::min(ur, extra);
    return std::make_pair(begin, begin + base + (ur < extra ? 1 : 0));
  };
  const auto [f0, f1] = block_of(nw, me, n_ranks);
  // every element of every held frequency is written below (this rank's largest allocation, with the spectral
  // function's tile: a rank that cannot make them fails every rank, none is left in the exchange)
  Chi0 chi = agreed_on_every_rank(comm, [&] { return Chi0(n, omega, f0, f1 - f0, false); });

  SpectralInfo local_info;
  local_info.grid = grid;
  local_info.fft_length = transform.fft_length();
  local_info.used_fft = transform.uses_fft();
  local_info.tiles = n_tiles;
  local_info.seconds_gather = seconds_gather;

  std::size_t max_tile_elements = 0;
  for (std::size_t t = 0; t < n_tiles; ++t)
    max_tile_elements = std::max(max_tile_elements, elements_before(std::size_t(tile_begin(me, t + 1))) -
                                                        elements_before(std::size_t(tile_begin(me, t))));
  // Work arrays allocated once for all tiles (no page faults per tile).
  auto s = agreed_on_every_rank(comm, [&] {
    return std::vector<SpectralScalar, LargeAllocator<SpectralScalar>>(
        std::max<std::size_t>(max_tile_elements * nb, 1));
  });
  std::vector<Chi0Scalar, LargeAllocator<Chi0Scalar>> send, recv;  // chi0's own precision
  local_info.seconds_setup = seconds_since(t_setup);

  Progress progress("chi0 (spectral)",
                    elements_before(std::size_t(col_begin[me + 1])) - elements_before(std::size_t(col_begin[me])),
                    show_progress && comm.is_root(), comm.size() == 1);
  // The binning's per-thread work rows and product (bins are independent: each thread owns its bins' s values);
  // its parallel region asks for n_threads, so that no thread number indexes beyond them.
  const int n_threads = std::max(1, openmp_max_threads());
  // With a body (RPA) the bins are summed in single precision, the precision S is stored in (see SpectralScalar);
  // the IPA's 3 x 3 head (a few flops per transition) keeps double precision, so that its spectra and the
  // symmetry-equal directions stay equal to double round-off.
  const bool single_bins = n > 3;
  std::vector<std::vector<SpectralScalar>> scaled_f(single_bins ? n_threads : 0,
                                                    std::vector<SpectralScalar>(max_in_bin * n)),
      c_f(single_bins ? n_threads : 0);
  std::vector<std::vector<Complex>> scaled_d(single_bins ? 0 : n_threads, std::vector<Complex>(max_in_bin * n)),
      c_d(single_bins ? 0 : n_threads);
  const Complex I(0, 1);
  // An exception may not leave an OpenMP region: the first one of a tile is recorded, raised after its regions.
  std::exception_ptr error;
  const auto record_error = [&error] {
#pragma omp critical(rung_chi0_spectral_error)
    if (!error) error = std::current_exception();
  };
  for (std::size_t tile = 0; tile < n_tiles; ++tile) {
    const int b0 = tile_begin(me, tile), b1 = tile_begin(me, tile + 1), width = b1 - b0;
    const std::size_t n_el = elements_before(std::size_t(b1)) - elements_before(std::size_t(b0));
    // Element e of the tile (packed: column b holds rows 0..b) is (pair[e].first, pair[e].second).
    auto pairs_of = [&](int c0, int c1) {
      std::vector<std::pair<int, int>> p;
      p.reserve(elements_before(std::size_t(c1)) - elements_before(std::size_t(c0)));
      for (int b = c0; b < c1; ++b)
        for (int a = 0; a <= b; ++a) p.emplace_back(a, b);
      return p;
    };
    const auto pair = pairs_of(b0, b1);

    const auto t_bin = std::chrono::steady_clock::now();
    if (width > 0) {
#pragma omp parallel num_threads(n_threads)
      {
#ifdef _OPENMP
        const auto me_thread = static_cast<std::size_t>(omp_get_thread_num());
#else
        const std::size_t me_thread = 0;
#endif
        // Bin j's rows (scaled by √w) -> their Gram matrix -> S, for a group of consecutive bins at a time: S is
        // element-major (s[e * nb + j]), so writing one bin alone touches a new cache line (and page) per element;
        // a group writes each element's run of bins at once, and writes the zeros of its empty bins itself.
        auto bin_all = [&](auto* scaled, auto& c) {
          using Scalar = std::remove_reference_t<decltype(*scaled)>;
          const std::size_t cells = static_cast<std::size_t>(b1) * width;
          const std::size_t group =
              std::clamp<std::size_t>((std::size_t(4) << 20) / (cells * sizeof(Scalar)), 1, max_bin_group);
          bool ready = true;
          try {
            c.resize(cells * group);
          } catch (...) {
            record_error();
            ready = false;
          }
          std::array<bool, max_bin_group> filled{};
          const std::size_t n_groups = (nb + group - 1) / group;
#pragma omp for schedule(dynamic, 2)
          for (std::size_t ig = 0; ig < n_groups; ++ig) {
            // (still in the loop: its closing barrier waits for every thread; a host's stop skips the rest)
            if (!ready || progress.stop_requested()) continue;
            try {
              const std::size_t j0 = ig * group, j1 = std::min(nb, j0 + group);
              for (std::size_t j = j0; j < j1; ++j) {
                const std::size_t k = start[j + 1] - start[j];
                filled[j - j0] = k > 0;
                if (k == 0) continue;
                for (std::size_t r = 0; r < k; ++r) {
                  const BinEntry& e = entries[start[j] + r];
                  table.row(e.t, b1, std::sqrt(e.weight), scaled + r * b1);
                }
                bin_gram(b0, b1, static_cast<int>(k), scaled, c.data() + (j - j0) * cells);
              }
              std::size_t e = 0;
              for (int b = b0; b < b1; ++b)
                for (int a = 0; a <= b; ++a, ++e) {
                  const std::size_t at = static_cast<std::size_t>(a) * width + (b - b0);
                  SpectralScalar* out = s.data() + e * nb + j0;
                  for (std::size_t jj = 0; jj < j1 - j0; ++jj)
                    out[jj] = filled[jj] ? SpectralScalar(c[jj * cells + at]) : SpectralScalar(0);
                }
            } catch (...) {
              record_error();
            }
          }
        };
        if (single_bins) bin_all(scaled_f[me_thread].data(), c_f[me_thread]);
        else bin_all(scaled_d[me_thread].data(), c_d[me_thread]);
      }
    }
    local_info.seconds_binning += seconds_since(t_bin);

    const auto t_tr = std::chrono::steady_clock::now();
    // Sending (n_ranks > 1): segment d holds, per own element and per frequency of rank d, (chi_ab, chi_ba).
    // This rank's own frequencies are written straight into chi (no segment, nothing packed or copied).
    std::vector<std::size_t> send_counts(n_ranks), send_offset(n_ranks + 1, 0);
    for (int d = 0; d < n_ranks; ++d) {
      const auto [w0, w1] = block_of(nw, d, n_ranks);
      send_counts[d] = d == me ? 0 : n_el * (w1 - w0) * 2;
      send_offset[d + 1] = send_offset[d] + send_counts[d];
    }
    try {  // (a rank out of memory here raises on every rank below, with the transform's failures)
      if (n_ranks > 1) send.resize(send_offset[n_ranks]);
    } catch (...) {
      record_error();
    }

    // Elements in chunks: transform a chunk, then write it frequency by frequency (the n x n blocks of
    // different frequencies are far apart; writing one element across all frequencies thrashes the TLB).
    constexpr std::size_t chunk = 16;
    const std::size_t n_chunks = (n_el + chunk - 1) / chunk;
    const bool binned = !error;  // (nothing to transform once the binning failed)
#pragma omp parallel
    {
      decltype(transform.workspace()) ws;
      std::vector<Complex> P, Q;
      bool ready = binned;
      if (ready) {
        try {
          ws = transform.workspace();
          P.resize(chunk * nw);
          Q.resize(chunk * nw);
        } catch (...) {
          record_error();
          ready = false;
        }
      }
#pragma omp for schedule(dynamic, 1)
      for (std::size_t ic = 0; ic < n_chunks; ++ic) {
        if (!ready || progress.stop_requested()) continue;  // (still in the loop: its barrier waits for every thread)
        try {
          const std::size_t e0 = ic * chunk, e1 = std::min(n_el, e0 + chunk);
          for (std::size_t e = e0; e < e1; ++e) {
            const auto [a, b] = pair[e];
            const SpectralScalar* se = s.data() + e * nb;
            if (a == b) transform.transform_diagonal(se, P.data() + (e - e0) * nw, *ws);
            else transform.transform(se, P.data() + (e - e0) * nw, Q.data() + (e - e0) * nw, *ws);
          }
          // This rank's frequencies [f0, f1) (all of them on one rank), element by element into chi's n x n blocks.
          {
            for (std::size_t w = f0; w < f1; ++w) {
              Chi0Scalar* blk = chi.data.data() + (w - f0) * n * n;
              for (std::size_t e = e0; e < e1; ++e) {
                const auto [a, b] = pair[e];
                const Complex p = P[(e - e0) * nw + w];
                if (a == b) {
                  blk[a + static_cast<std::size_t>(a) * n] = Chi0Scalar(p);
                } else {
                  const Complex q = Q[(e - e0) * nw + w];
                  blk[a + static_cast<std::size_t>(b) * n] = Chi0Scalar(p + I * q);
                  blk[b + static_cast<std::size_t>(a) * n] = Chi0Scalar(std::conj(p) + I * std::conj(q));
                }
              }
            }
          }
          if (n_ranks > 1) {
            for (int d = 0; d < n_ranks; ++d) {
              if (d == me) continue;
              const auto [w0, w1] = block_of(nw, d, n_ranks);
              const std::size_t nf = w1 - w0;
              for (std::size_t e = e0; e < e1; ++e) {
                const auto [a, b] = pair[e];
                Chi0Scalar* out = send.data() + send_offset[d] + e * nf * 2;
                for (std::size_t w = w0; w < w1; ++w, out += 2) {
                  const Complex p = P[(e - e0) * nw + w];
                  if (a == b) {
                    out[0] = Chi0Scalar(p);
                    out[1] = out[0];
                  } else {
                    const Complex q = Q[(e - e0) * nw + w];
                    out[0] = Chi0Scalar(p + I * q);
                    out[1] = Chi0Scalar(std::conj(p) + I * std::conj(q));
                  }
                }
              }
            }
          }
        } catch (...) {
          record_error();
        }
      }
    }
    // the host asked to stop during the tile (one rank only: Progress is interruptible on one rank alone); before a
    // thread's failure, as in solve_dyson: the stop is what the host waits for
    if (progress.stop_requested()) throw Interrupted();
    // raised on every rank (a rank that raised alone would leave the others in the exchange below)
    comm.rethrow_on_every_rank(error);
    if (n_ranks > 1) {
      const auto t_ex = std::chrono::steady_clock::now();
      // Receive every rank's tile on this rank's frequencies.
      const std::size_t my_nf = f1 - f0;
      std::vector<std::size_t> recv_counts(n_ranks), recv_offset(n_ranks + 1, 0);
      std::vector<std::vector<std::pair<int, int>>> their(n_ranks);
      // the receive buffer is this rank's largest allocation of the tile: one rank out of memory here must not
      // leave the others waiting in the exchange (its failure is raised on every rank first)
      agreed_on_every_rank(comm, [&] {
        for (int r = 0; r < n_ranks; ++r) {
          if (r != me) their[r] = pairs_of(tile_begin(r, tile), tile_begin(r, tile + 1));  // own: written above
          recv_counts[r] = their[r].size() * my_nf * 2;
          recv_offset[r + 1] = recv_offset[r] + recv_counts[r];
        }
        recv.resize(recv_offset[n_ranks]);
      });
      comm.all_to_all(send.data(), send_counts, recv.data(), recv_counts);
      for (int r = 0; r < n_ranks; ++r) {
        const auto& pr = their[r];
        for (std::size_t ec = 0; ec < pr.size(); ec += chunk) {
          const std::size_t ec1 = std::min(pr.size(), ec + chunk);
          for (std::size_t w = 0; w < my_nf; ++w) {
            Chi0Scalar* blk = chi.data.data() + w * n * n;
            for (std::size_t e = ec; e < ec1; ++e) {
              const auto [a, b] = pr[e];
              const Chi0Scalar* in = recv.data() + recv_offset[r] + (e * my_nf + w) * 2;
              blk[a + static_cast<std::size_t>(b) * n] = in[0];
              if (a != b) blk[b + static_cast<std::size_t>(a) * n] = in[1];
            }
          }
        }
      }
      local_info.seconds_exchange += seconds_since(t_ex);
    }
    progress.advance(n_el);  // this rank's elements (the bar shows rank 0)
    local_info.seconds_transform += seconds_since(t_tr);
  }
  progress.finish();
  if (info) *info = local_info;
  return chi;
}

}  // namespace rung::response
