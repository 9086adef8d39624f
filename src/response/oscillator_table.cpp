#include "response/oscillator_table.hpp"

#include "core/error.hpp"
#include "core/large_allocator.hpp"
#include "core/progress.hpp"
#include "core/thread_pools.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <fmt/format.h>

namespace rung::response {

namespace {
void reserve_rows(OscillatorTable& t, std::size_t need) {
  if (need <= static_cast<std::size_t>(t.rows.rows())) return;
  const std::size_t filled = t.compact() || t.stored > 0 ? t.stored : t.used;
  const std::size_t cap = std::max<std::size_t>(need, 2 * static_cast<std::size_t>(t.rows.rows()));
  OscillatorTable::Rows grown(static_cast<Eigen::Index>(cap), t.rows.cols());
  grown.topRows(static_cast<Eigen::Index>(filled)) = t.rows.topRows(static_cast<Eigen::Index>(filled));
  t.rows.swap(grown);
}

void check_batch(const OscillatorTable& t, const TransitionBatch& b) {
  const std::size_t nt = b.size();
  if (b.weight.size() != nt || static_cast<std::size_t>(b.head.rows()) != nt)
    fail(fmt::format("transition batch at k {}: {} energies but {} weights and {} head rows", b.ik_full, nt,
                     b.weight.size(), b.head.rows()));
  if (t.n_body() > 0 && (static_cast<std::size_t>(b.body.rows()) != nt || b.body.cols() < t.n_body()))
    fail(fmt::format("transition batch at k {}: body is {}x{}, chi0 needs {}x{}", b.ik_full, b.body.rows(),
                     b.body.cols(), nt, t.n_body()));
}

void copy_rows(OscillatorTable& t, std::size_t first, const TransitionBatch& b) {
  for (std::size_t i = 0; i < b.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(first + i);
    t.rows.block(r, 0, 1, 3) = b.head.row(static_cast<Eigen::Index>(i));
    if (t.n_body() > 0) t.rows.block(r, 3, 1, t.n_body()) = b.body.block(static_cast<Eigen::Index>(i), 0, 1, t.n_body());
  }
}
}  // namespace

void OscillatorTable::append(const TransitionBatch& b) {
  if (compact() || stored > 0) fail("OscillatorTable::append: the table is compact (use append_images)");
  const std::size_t nt = b.size();
  if (nt == 0) return;
  check_batch(*this, b);
  reserve_rows(*this, used + nt);
  copy_rows(*this, used, b);
  energy.insert(energy.end(), b.energy.begin(), b.energy.end());
  weight.insert(weight.end(), b.weight.begin(), b.weight.end());
  used += nt;
}

std::size_t OscillatorTable::store_rows(const TransitionBatch& b) {
  if (used > 0 && !compact()) fail("OscillatorTable::store_rows: the table is dense (use append)");
  check_batch(*this, b);
  reserve_rows(*this, stored + b.size());
  const std::size_t first = stored;
  copy_rows(*this, first, b);
  stored += b.size();
  return first;
}

void OscillatorTable::append_images(std::size_t first_row, const TransitionBatch& b, RowImage image) {
  const std::size_t nt = b.size();
  if (nt == 0) return;
  if (used > 0 && !compact()) fail("OscillatorTable::append_images: the table is dense (use append)");
  if (first_row + nt > stored) fail("OscillatorTable::append_images: rows not stored");
  if (image.source.size() < static_cast<std::size_t>(n_body()) || image.phase.size() < static_cast<std::size_t>(n_body()))
    fail("OscillatorTable::append_images: the image does not cover the body columns");
  for (int g = 0; g < n_body(); ++g)
    if (image.source[g] < 0 || image.source[g] >= n_body()) fail("OscillatorTable::append_images: source column out of range");
  if (b.weight.size() != nt) fail("OscillatorTable::append_images: energies and weights differ in length");
  image.source.resize(static_cast<std::size_t>(n_body()));
  image.phase.resize(static_cast<std::size_t>(n_body()));
  images.push_back(std::move(image));
  const auto which = static_cast<std::uint32_t>(images.size() - 1);
  for (std::size_t i = 0; i < nt; ++i) {
    source_row.push_back(static_cast<std::uint32_t>(first_row + i));
    image_of.push_back(which);
  }
  energy.insert(energy.end(), b.energy.begin(), b.energy.end());
  weight.insert(weight.end(), b.weight.begin(), b.weight.end());
  used += nt;
}

void OscillatorTable::reserve(std::size_t transitions, std::size_t stored_rows) {
  energy.reserve(transitions);
  weight.reserve(transitions);
  if (stored_rows > 0) {
    source_row.reserve(transitions);
    image_of.reserve(transitions);
    reserve_rows(*this, stored_rows);
  } else {
    reserve_rows(*this, transitions);
  }
}

template <class Real>
void OscillatorTable::image_row(std::size_t t, int n_cols, double scale, std::complex<Real>* out) const {
  using Out = std::complex<Real>;
  const RowImage& im = images[image_of[t]];
  const Complex* r = rows.data() + static_cast<std::size_t>(source_row[t]) * static_cast<std::size_t>(rows.cols());
  Eigen::RowVector3cd h(r[0], r[1], r[2]);
  if (im.head_conjugate) h = h.conjugate().eval();
  const Eigen::RowVector3cd head = h * im.head_matrix;
  for (int a = 0; a < std::min(n_cols, 3); ++a) out[a] = Out(scale * head[a]);
  const Complex* body = r + 3;
  const int nb = n_cols - 3;
  if (im.body_conjugate)
    for (int g = 0; g < nb; ++g) out[3 + g] = Out((scale * im.phase[g]) * std::conj(body[im.source[g]]));
  else
    for (int g = 0; g < nb; ++g) out[3 + g] = Out((scale * im.phase[g]) * body[im.source[g]]);
}
template void OscillatorTable::image_row<double>(std::size_t, int, double, std::complex<double>*) const;
template void OscillatorTable::image_row<float>(std::size_t, int, double, std::complex<float>*) const;

OscillatorTable::Rows OscillatorTable::dense_rows() const {
  if (!compact()) return rows.topRows(static_cast<Eigen::Index>(used));
  Rows d(static_cast<Eigen::Index>(used), rows.cols());
  for (std::size_t t = 0; t < used; ++t) image_row(t, n_columns(), 1.0, d.data() + t * static_cast<std::size_t>(d.cols()));
  return d;
}

void OscillatorTable::append(double e, double w, const Eigen::Ref<const Eigen::RowVectorXcd>& a) {
  if (compact() || stored > 0) fail("OscillatorTable::append: the table is compact (use append_images)");
  if (a.size() != n_columns()) fail("OscillatorTable::append: row has the wrong length");
  reserve_rows(*this, used + 1);
  rows.row(static_cast<Eigen::Index>(used)) = a;
  energy.push_back(e);
  weight.push_back(w);
  ++used;
}

void OscillatorTable::shrink_to_fit() {
  const std::size_t filled = compact() || stored > 0 ? stored : used;
  if (static_cast<std::size_t>(rows.rows()) == filled) return;
  Rows exact = rows.topRows(static_cast<Eigen::Index>(filled));
  rows.swap(exact);
}

OscillatorTable build_oscillator_table(TransitionSource& source, std::size_t ik_first, std::size_t ik_last, bool compact,
                                       Progress* progress) {
  OscillatorTable table(static_cast<int>(source.options().gblock.size()) - 1);
  // spin channel 0's pairs per k (an estimate for metals and lsda, where the reserve is only an optimisation)
  const std::size_t per_k = static_cast<std::size_t>(std::max(0, source.n_valence())) *
                            static_cast<std::size_t>(std::max(0, source.n_conduction()));
  std::size_t n_full = 0;
  for (std::size_t ik = ik_first; ik < ik_last; ++ik) n_full += source.star(ik).size();
  // Sized once: growing a table of hundreds of MB by doubling costs copies and page faults.
  table.reserve(n_full * per_k, compact ? (ik_last - ik_first) * per_k : 0);
  if (!compact) {
    for (std::size_t ik = ik_first; ik < ik_last; ++ik) {
      for (std::size_t ikf : source.star(ik)) table.append(source.batch(ikf));
      if (progress) progress->advance();
    }
    table.shrink_to_fit();
    return table;
  }
  // Compact: the irreducible batches (read, velocities, oscillators: the whole cost) are computed by the OpenMP
  // threads a few k-points at a time, each batch by one thread (TransitionSource is thread-compatible: a lock
  // per k-point, wavefunction readers behind their own lock), then stored in k order by this thread, so the
  // table is the same for any thread count. OpenBLAS stays single-threaded inside (core/thread_pools.hpp).
  const SerialBlasScope serial_blas;
  const auto n_threads = static_cast<std::size_t>(std::max(1, openmp_max_threads()));
  const std::size_t group = n_threads == 1 ? 1 : 2 * n_threads;  // at most this many batches held at once
  std::vector<TransitionBatch> base(group);
  for (std::size_t g0 = ik_first; g0 < ik_last; g0 += group) {
    const std::size_t g1 = std::min(ik_last, g0 + group);
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1) if (g1 - g0 > 1)
    for (std::size_t ik = g0; ik < g1; ++ik) {
      try {
        base[ik - g0] = source.irreducible_batch(ik);
      } catch (...) {
#pragma omp critical(rung_oscillator_table_error)
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    for (std::size_t ik = g0; ik < g1; ++ik) {
      const TransitionBatch& b = base[ik - g0];
      const std::size_t first = table.store_rows(b);
      for (std::size_t ikf : source.star(ik)) table.append_images(first, b, source.image(ikf));
      if (progress) progress->advance();
    }
  }
  table.shrink_to_fit();
  return table;
}

namespace {

// A packed table and the gathered tables: written once and soon dropped, so their pages are mapped at once from
// 1 MB on (core/large_allocator.hpp).
using MessageBytes = std::vector<char, LargeAllocator<char, (std::size_t(1) << 20)>>;

// pack() runs twice: once counting the bytes, once writing them into a buffer of that size (one allocation,
// its pages provided at once: a growing string paid a page fault per 4 kB and a copy per doubling).
struct Counter {
  std::size_t bytes = 0;
  template <class T>
  void put(const T*, std::size_t n) {
    bytes += n * sizeof(T);
  }
  template <class T>
  void put(const T& v) {
    put(&v, 1);
  }
};
struct Writer {
  char* at;
  template <class T>
  void put(const T* p, std::size_t n) {
    if (n == 0) return;
    std::memcpy(at, static_cast<const void*>(p), n * sizeof(T));
    at += n * sizeof(T);
  }
  template <class T>
  void put(const T& v) { put(&v, 1); }
};
struct Reader {
  const char* in;
  std::size_t size;
  std::size_t at = 0;
  template <class T>
  void get(T* p, std::size_t n) {
    if (at + n * sizeof(T) > size) fail("gather_table: truncated message");
    if (n > 0) std::memcpy(static_cast<void*>(p), in + at, n * sizeof(T));
    at += n * sizeof(T);
  }
  template <class T>
  T get() {
    T v;
    get(&v, 1);
    return v;
  }
};

template <class Sink>
void pack(const OscillatorTable& t, Sink& w) {
  const std::uint64_t compact = t.compact() ? 1 : 0, cols = static_cast<std::uint64_t>(t.n_columns());
  const std::uint64_t nrows = t.compact() ? t.stored : t.used;
  w.put(compact), w.put(cols), w.put(nrows), w.put(static_cast<std::uint64_t>(t.used));
  w.put(t.rows.data(), nrows * cols);
  w.put(t.energy.data(), t.used);
  w.put(t.weight.data(), t.used);
  if (compact) {
    w.put(t.source_row.data(), t.used);
    w.put(t.image_of.data(), t.used);
    w.put(static_cast<std::uint64_t>(t.images.size()));
    for (const auto& im : t.images) {
      w.put(im.head_matrix.data(), 9);
      const std::uint8_t flags = (im.head_conjugate ? 1 : 0) | (im.body_conjugate ? 2 : 0);
      w.put(flags);
      w.put(static_cast<std::uint64_t>(im.source.size()));
      w.put(im.source.data(), im.source.size());
      w.put(im.phase.data(), im.phase.size());
    }
  }
}

}  // namespace

namespace {
OscillatorTable unpack_gathered(const OscillatorTable& mine, const MessageBytes& gathered,
                                const std::vector<std::size_t>& offset, int n_parts);
}

OscillatorTable gather_table(const OscillatorTable& mine, const Comm& comm) {
  if (comm.size() == 1) return mine;
  // packing and unpacking are each rank's own work, their failures (memory) agreed on by every rank: one rank
  // leaving alone would leave the others in the gather or in chi0's next collective
  const MessageBytes packed = agreed_on_every_rank(comm, [&] {
    Counter counter;
    pack(mine, counter);
    MessageBytes bytes(counter.bytes);
    Writer writer{bytes.data()};
    pack(mine, writer);
    return bytes;
  });
  MessageBytes gathered;
  const auto offset = comm.all_gather_into(packed.data(), packed.size(), [&](std::size_t total) {
    gathered.resize(total);
    return gathered.data();
  });
  return agreed_on_every_rank(comm, [&] { return unpack_gathered(mine, gathered, offset, comm.size()); });
}

namespace {
OscillatorTable unpack_gathered(const OscillatorTable& mine, const MessageBytes& gathered,
                                const std::vector<std::size_t>& offset, int n_parts) {
  auto reader = [&](int p) {
    return Reader{gathered.data() + offset[p], offset[p + 1] - offset[p]};
  };
  // Compact if any rank's table is (a rank without transitions has an empty dense one).
  bool compact = false;
  std::size_t rows = 0, transitions = 0;
  for (int p = 0; p < n_parts; ++p) {
    Reader r = reader(p);
    const auto c = r.get<std::uint64_t>();
    const auto cols = r.get<std::uint64_t>();
    if (cols != static_cast<std::uint64_t>(mine.n_columns())) fail("gather_table: the ranks' tables differ in columns");
    const auto nrows = r.get<std::uint64_t>(), used = r.get<std::uint64_t>();
    if (used > 0) compact = compact || c != 0;
    rows += nrows;
    transitions += used;
  }
  OscillatorTable all(mine.n_body());
  all.reserve(transitions, compact ? rows : 0);
  const std::size_t cols = static_cast<std::size_t>(mine.n_columns());
  for (int p = 0; p < n_parts; ++p) {
    Reader r = reader(p);
    const bool c = r.get<std::uint64_t>() != 0;
    r.get<std::uint64_t>();
    const auto nrows = static_cast<std::size_t>(r.get<std::uint64_t>()), used = static_cast<std::size_t>(r.get<std::uint64_t>());
    if (used == 0) continue;
    if (c != compact) fail("gather_table: the ranks' tables are of different kinds (dense and compact)");
    const std::size_t row0 = compact ? all.stored : all.used;
    r.get(all.rows.data() + row0 * cols, nrows * cols);
    const std::size_t t0 = all.used;
    all.energy.resize(t0 + used);
    all.weight.resize(t0 + used);
    r.get(all.energy.data() + t0, used);
    r.get(all.weight.data() + t0, used);
    all.used += used;
    if (!compact) continue;
    all.stored += nrows;
    const std::size_t image0 = all.images.size();
    all.source_row.resize(t0 + used);
    all.image_of.resize(t0 + used);
    r.get(all.source_row.data() + t0, used);
    r.get(all.image_of.data() + t0, used);
    for (std::size_t i = t0; i < t0 + used; ++i) {
      all.source_row[i] += static_cast<std::uint32_t>(row0);
      all.image_of[i] += static_cast<std::uint32_t>(image0);
    }
    const auto n_images = r.get<std::uint64_t>();
    for (std::uint64_t k = 0; k < n_images; ++k) {
      RowImage im;
      r.get(im.head_matrix.data(), 9);
      const auto flags = r.get<std::uint8_t>();
      im.head_conjugate = (flags & 1) != 0;
      im.body_conjugate = (flags & 2) != 0;
      const auto ns = static_cast<std::size_t>(r.get<std::uint64_t>());
      im.source.resize(ns);
      im.phase.resize(ns);
      r.get(im.source.data(), ns);
      r.get(im.phase.data(), ns);
      all.images.push_back(std::move(im));
    }
  }
  return all;
}
}  // namespace

std::pair<std::size_t, std::size_t> balanced_kpoint_range(const TransitionSource& source, const Comm& comm) {
  const std::size_t nk = source.n_irreducible_kpoints();
  std::vector<std::size_t> cumulative(nk + 1, 0);
  for (std::size_t ik = 0; ik < nk; ++ik) cumulative[ik + 1] = cumulative[ik] + source.star(ik).size();
  const std::size_t total = cumulative[nk], p = static_cast<std::size_t>(comm.size());
  // Rank r starts at the first point whose cumulative count reaches r·total/p.
  auto start_of = [&](std::size_t r) {
    if (r >= p) return nk;
    const double target = double(total) * double(r) / double(p);
    std::size_t ik = 0;
    while (ik < nk && double(cumulative[ik]) + 0.5 * double(cumulative[ik + 1] - cumulative[ik]) < target) ++ik;
    return ik;
  };
  const auto r = static_cast<std::size_t>(comm.rank());
  return {start_of(r), start_of(r + 1)};
}

double OscillatorTable::max_energy() const {
  return energy.empty() ? 0.0 : *std::max_element(energy.begin(), energy.end());
}

}  // namespace rung::response
