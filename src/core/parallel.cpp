#include "core/parallel.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <thread>

#ifdef RUNG_HAVE_MPI
#include <mpi.h>
#endif

namespace rung {

namespace {
// all_gather_into with one rank: its own bytes are the whole result.
std::vector<std::size_t> copy_own_bytes(const char* mine, std::size_t n,
                                        const std::function<char*(std::size_t)>& buffer) {
  char* out = buffer(n);
  if (n > 0) std::memcpy(out, mine, n);
  return {0, n};
}
}  // namespace

#ifdef RUNG_HAVE_MPI
namespace {
// MPI counts are ints: a transfer of n elements goes as calls of at most this many each (1 Gi elements).
constexpr std::size_t max_mpi_count = std::size_t(1) << 30;
// f(offset, count) for consecutive pieces of [0, n) of at most `max` elements each (none when n is 0).
template <class F>
void in_pieces(std::size_t n, std::size_t max, F&& f) {
  for (std::size_t off = 0; off < n; off += max) f(off, int(std::min(max, n - off)));
}
// Whether `mine` holds on any rank, on every rank (a collective): a rank that must fail tells the others first,
// which would otherwise wait for ever in the transfer it no longer makes.
bool on_any_rank(bool mine, MPI_Comm comm) {
  int flag = mine ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, comm);
  return flag != 0;
}

static_assert(sizeof(MPI_Comm) <= sizeof(std::uintptr_t), "MPI_Comm does not fit the opaque handle");
MPI_Comm to_mpi(std::uintptr_t h) {
  MPI_Comm c;
  std::memcpy(&c, &h, sizeof(MPI_Comm));
  return c;
}
std::uintptr_t from_mpi(MPI_Comm c) {
  std::uintptr_t h = 0;
  std::memcpy(&h, &c, sizeof(MPI_Comm));
  return h;
}
bool mpi_ready() {
  int init = 0, fin = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&fin);
  return init && !fin;
}
}  // namespace

Comm::Comm() {
  if (!mpi_ready()) return;
  mpi_ = true;
  handle_ = from_mpi(MPI_COMM_WORLD);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Comm Comm::self() {
  Comm c;
  if (!c.mpi_) return c;
  c.handle_ = from_mpi(MPI_COMM_SELF);
  c.rank_ = 0;
  c.size_ = 1;
  return c;
}

Comm Comm::from_fortran(int fcomm) {
  Comm c;
  if (!mpi_ready())  // (the caller's obligation: a usage error)
    fail_usage(
        "a Fortran MPI communicator was given but MPI is not initialised: call MPI_Init first, or pass "
        "RUNG_COMM_NONE for a serial call");
  MPI_Comm m = MPI_Comm_f2c(fcomm);
  if (m == MPI_COMM_NULL)
    fail_usage(
        "the communicator is MPI_COMM_NULL (a rank left out of a split): call rung only on the ranks of a "
        "communicator, or pass RUNG_COMM_NONE to run on this process alone");
  // Below MPI_THREAD_SERIALIZED only the thread that initialised MPI may call it (MPI standard, 12.4): a call from
  // another thread is refused before rung's first MPI call on the communicator. (Every rank refuses when every
  // rank calls from such a thread, the usual case; a host that mixes threads across ranks is erroneous anyway.)
  int provided = MPI_THREAD_SINGLE, main_thread = 1;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_SERIALIZED) MPI_Is_thread_main(&main_thread);
  if (!main_thread)
    fail_usage(std::string("a communicator was given from a thread other than the one that initialised MPI, whose "
                           "thread level (") +
               (provided == MPI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED" : "MPI_THREAD_SINGLE") +
               ") allows MPI calls from that thread only: call rung from it, initialise MPI with "
               "MPI_THREAD_SERIALIZED or higher, or pass RUNG_COMM_NONE");
  MPI_Comm dup = MPI_COMM_NULL;
  MPI_Comm_dup(m, &dup);
  MPI_Comm_set_errhandler(dup, MPI_ERRORS_ARE_FATAL);
  c.owned_ = std::shared_ptr<void>(static_cast<void*>(nullptr), [h = from_mpi(dup)](void*) {
    MPI_Comm d = to_mpi(h);
    if (mpi_ready()) MPI_Comm_free(&d);  // (a host that finalised MPI first freed it with everything else)
  });
  c.mpi_ = true;
  c.handle_ = from_mpi(dup);
  MPI_Comm_rank(dup, &c.rank_);
  MPI_Comm_size(dup, &c.size_);
  return c;
}

void Comm::abort(int code) const {
  if (mpi_ && size_ > 1 && mpi_ready()) MPI_Abort(to_mpi(handle_), code);
  std::exit(code);
}

void Comm::barrier() const {
  if (mpi_ && size_ > 1) MPI_Barrier(to_mpi(handle_));
}
void Comm::idle_barrier(int poll_ms) const {
  if (!mpi_ || size_ <= 1) return;
  MPI_Request request;
  MPI_Ibarrier(to_mpi(handle_), &request);
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(1, poll_ms)));
  }
}
void Comm::sum(double* d, std::size_t n) const {
  if (mpi_ && size_ > 1)
    in_pieces(n, max_mpi_count, [&](std::size_t off, int count) {
      MPI_Allreduce(MPI_IN_PLACE, d + off, count, MPI_DOUBLE, MPI_SUM, to_mpi(handle_));
    });
}
void Comm::sum(std::complex<double>* d, std::size_t n) const { sum(reinterpret_cast<double*>(d), 2 * n); }
void Comm::sum(long long* d, std::size_t n) const {
  if (mpi_ && size_ > 1)
    in_pieces(n, max_mpi_count, [&](std::size_t off, int count) {
      MPI_Allreduce(MPI_IN_PLACE, d + off, count, MPI_LONG_LONG, MPI_SUM, to_mpi(handle_));
    });
}
namespace {
// One side of an MPI_Alltoallv of complex values sent as pairs of reals: the counts and displacements in reals,
// or nothing when their total passes an int (MPI's count type).
struct RealLayout {
  std::vector<int> counts, displs;
};
std::optional<RealLayout> real_layout(const std::vector<std::size_t>& counts) {
  std::size_t total = 0;
  for (std::size_t c : counts) total += 2 * c;
  if (total > std::size_t(std::numeric_limits<int>::max())) return std::nullopt;
  RealLayout l{std::vector<int>(counts.size()), std::vector<int>(counts.size())};
  for (std::size_t i = 0, off = 0; i < counts.size(); off += 2 * counts[i], ++i)
    l.counts[i] = int(2 * counts[i]), l.displs[i] = int(off);
  return l;
}
// MPI_Alltoallv of complex values sent as pairs of reals of MPI type `real`.
template <class T>
void all_to_all_complex(const std::complex<T>* send, const std::vector<std::size_t>& send_counts, std::complex<T>* recv,
                        const std::vector<std::size_t>& recv_counts, bool mpi, int size, MPI_Comm comm,
                        MPI_Datatype real) {
  if (send_counts.size() != std::size_t(size) || recv_counts.size() != std::size_t(size))
    fail("Comm::all_to_all: one count per rank needed");
  if (!(mpi && size > 1)) {
    std::copy(send, send + send_counts[0], recv);
    return;
  }
  const auto s = real_layout(send_counts), r = real_layout(recv_counts);
  if (on_any_rank(!s || !r, comm))
    fail("Comm::all_to_all: an exchange of more than 2^31 reals per rank (MPI counts are ints)");
  MPI_Alltoallv(send, s->counts.data(), s->displs.data(), real, recv, r->counts.data(), r->displs.data(), real, comm);
}
}  // namespace

void Comm::all_to_all(const std::complex<double>* send, const std::vector<std::size_t>& send_counts,
                      std::complex<double>* recv, const std::vector<std::size_t>& recv_counts) const {
  all_to_all_complex(send, send_counts, recv, recv_counts, mpi_, size_, to_mpi(handle_), MPI_DOUBLE);
}
void Comm::all_to_all(const std::complex<float>* send, const std::vector<std::size_t>& send_counts,
                      std::complex<float>* recv, const std::vector<std::size_t>& recv_counts) const {
  all_to_all_complex(send, send_counts, recv, recv_counts, mpi_, size_, to_mpi(handle_), MPI_FLOAT);
}

double Comm::max(double v) const {
  if (mpi_ && size_ > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, to_mpi(handle_));
  return v;
}
void Comm::broadcast(double* d, std::size_t n, int root) const {
  if (mpi_ && size_ > 1)
    in_pieces(n, max_mpi_count,
              [&](std::size_t off, int count) { MPI_Bcast(d + off, count, MPI_DOUBLE, root, to_mpi(handle_)); });
}
void Comm::broadcast(std::string& s, int root) const {
  if (!(mpi_ && size_ > 1)) return;
  long long n = (long long)s.size();
  MPI_Bcast(&n, 1, MPI_LONG_LONG, root, to_mpi(handle_));
  s.resize(std::size_t(n));
  in_pieces(s.size(), max_mpi_count,
            [&](std::size_t off, int count) { MPI_Bcast(s.data() + off, count, MPI_CHAR, root, to_mpi(handle_)); });
}
std::vector<std::string> Comm::gather(const std::string& mine, int root) const {
  if (!(mpi_ && size_ > 1)) return {mine};
  // Sizes first, on every rank, so that a total beyond an int's count is refused by all ranks together
  unsigned long long n = mine.size();
  std::vector<unsigned long long> sizes(size_);
  MPI_Allgather(&n, 1, MPI_UNSIGNED_LONG_LONG, sizes.data(), 1, MPI_UNSIGNED_LONG_LONG, to_mpi(handle_));
  std::size_t total = 0;
  for (auto s : sizes) total += std::size_t(s);
  if (total > std::size_t(std::numeric_limits<int>::max()))
    fail(fmt::format("Comm::gather: {} bytes in all, beyond an MPI count", total));
  std::vector<int> counts(size_), displs(size_);
  for (int r = 0, off = 0; r < size_; ++r) counts[r] = int(sizes[r]), displs[r] = off, off += counts[r];
  std::string all(rank_ == root ? total : 0, '\0');
  MPI_Gatherv(mine.data(), int(n), MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR, root, to_mpi(handle_));
  std::vector<std::string> out;
  if (rank_ == root)
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(std::size_t(displs[r]), std::size_t(counts[r])));
  return out;
}

bool launched_by_mpi() {
  // RUNG_MPI=1 forces MPI_Init (a singleton run of an MPI-only feature), RUNG_MPI=0 never initialises.
  if (const char* force = std::getenv("RUNG_MPI"); force && *force) return std::strcmp(force, "0") != 0;
  // Open MPI's mpirun (OMPI_COMM_WORLD_SIZE), PMIx launchers (PMIX_RANK: Open MPI 4/5, Slurm), PMI-1/2
  // launchers (PMI_RANK/PMI_SIZE: MPICH's hydra, Intel MPI, Slurm's srun --mpi=pmi2).
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

std::vector<std::size_t> Comm::all_gather_into(const char* mine, std::size_t n,
                                               const std::function<char*(std::size_t)>& buffer,
                                               std::size_t max_message) const {
  if (!(mpi_ && size_ > 1)) return copy_own_bytes(mine, n, buffer);
  max_message = std::clamp<std::size_t>(max_message, 1, std::size_t(std::numeric_limits<int>::max()));
  unsigned long long count = n;
  std::vector<unsigned long long> sizes(size_);
  MPI_Allgather(&count, 1, MPI_UNSIGNED_LONG_LONG, sizes.data(), 1, MPI_UNSIGNED_LONG_LONG, to_mpi(handle_));
  std::vector<std::size_t> offset(std::size_t(size_) + 1, 0);
  for (int r = 0; r < size_; ++r) offset[r + 1] = offset[r] + std::size_t(sizes[r]);
  // The caller's buffer may fail on one rank (out of memory): every rank learns it before the transfer
  char* all = nullptr;
  std::exception_ptr no_buffer;
  try {
    all = buffer(offset.back());
  } catch (...) {
    no_buffer = std::current_exception();
  }
  if (on_any_rank(bool(no_buffer), to_mpi(handle_))) {
    if (no_buffer) std::rethrow_exception(no_buffer);
    fail(fmt::format("Comm::all_gather: another rank could not provide the {} bytes of the gathered data",
                     offset.back()));
  }
  if (offset.back() <= max_message) {  // one MPI_Allgatherv: every count and displacement fits an int
    std::vector<int> counts(size_), displs(size_);
    for (int r = 0; r < size_; ++r) counts[r] = int(sizes[r]), displs[r] = int(offset[r]);
    MPI_Allgatherv(mine, int(n), MPI_CHAR, all, counts.data(), displs.data(), MPI_CHAR, to_mpi(handle_));
    return offset;
  }
  // Beyond an int's count (the oscillator table of a large run): each rank's part is broadcast from that rank,
  // in pieces of at most max_message bytes, straight into its place; every rank receives the same bytes as
  // with MPI_Allgatherv, with no copy.
  if (n > 0) std::memcpy(all + offset[rank_], mine, n);
  for (int r = 0; r < size_; ++r)
    in_pieces(std::size_t(sizes[r]), max_message, [&](std::size_t off, int piece) {
      MPI_Bcast(all + offset[r] + off, piece, MPI_CHAR, r, to_mpi(handle_));
    });
  return offset;
}

std::vector<std::string> Comm::all_gather(const std::string& mine) const {
  if (!(mpi_ && size_ > 1)) return {mine};
  std::string all;
  const auto offset = all_gather_into(mine.data(), mine.size(), [&](std::size_t total) {
    all.resize(total);
    return all.data();
  });
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(offset[r], offset[r + 1] - offset[r]));
  return out;
}

namespace {

std::string transport_choice;

// Under Open MPI's mpirun with every rank on this node, and no point-to-point layer chosen by the user (mpirun
// --mca pml and -x both arrive as OMPI_MCA_pml), rung asks for ob1 (shared memory through the vader BTL): Open
// MPI's own selection first probes every other PML and its MTLs, which costs about 0.2 s of MPI_Init per run
// (`mpirun -np 2 rung --version` 0.39-0.44 s against 0.19-0.23 s with ob1, doc/solver.md). Across nodes the
// launcher's choice stands (a fabric's MTL may be faster there). RUNG_MPI_TRANSPORT=launcher keeps Open MPI's
// choice on one node too. Only the process's own environment is touched, before MPI_Init reads it.
void choose_single_node_transport() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!size || !local || std::strcmp(size, local) != 0) return;
  if (const char* t = std::getenv("RUNG_MPI_TRANSPORT"); t && std::strcmp(t, "launcher") == 0) return;
  if (std::getenv("OMPI_MCA_pml")) return;
  if (setenv("OMPI_MCA_pml", "ob1", 0) == 0) transport_choice = "ob1 (every rank on one node)";
}

}  // namespace

const std::string& mpi_transport_choice() { return transport_choice; }

MpiSession::MpiSession(int* argc, char*** argv) {
  int init = 0;
  MPI_Initialized(&init);
  // A plain `rung ...` (no launcher) stays serial: Open MPI's singleton start-up costs ~0.6 s and spawns a
  // helper daemon, for a communicator of one rank.
  if (!init && launched_by_mpi()) {
    choose_single_node_transport();
    int provided = 0;
    // No argv: Open MPI copies it into one environment variable (OMPI_ARGV) that a singleton start
    // (RUNG_MPI=1) hands to its daemon, and past 128 KiB (a few thousand file names) that exec fails with
    // "Argument list too long". rung parses its own command line; MPI does not need it.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    owns_ = true;
  }
}
MpiSession::~MpiSession() {
  int fin = 0;
  MPI_Finalized(&fin);
  if (owns_ && !fin) MPI_Finalize();
}

#else  // serial build

const std::string& mpi_transport_choice() {
  static const std::string none;
  return none;
}

Comm::Comm() = default;
Comm Comm::self() { return Comm(); }
Comm Comm::from_fortran(int) {
  // a host's communicator would be taken for one rank: every rank would then act as the root (predict, log, launch)
  fail_unavailable(
      "this rung was built without MPI: a communicator was given (pass RUNG_COMM_NONE to run on this "
      "process alone)");
}
void Comm::abort(int code) const { std::exit(code); }
void Comm::barrier() const {}
void Comm::idle_barrier(int) const {}
void Comm::sum(double*, std::size_t) const {}
void Comm::sum(std::complex<double>*, std::size_t) const {}
void Comm::sum(long long*, std::size_t) const {}
namespace {
template <class T>
void all_to_all_serial(const T* send, const std::vector<std::size_t>& send_counts, T* recv,
                       const std::vector<std::size_t>& recv_counts) {
  if (send_counts.size() != 1 || recv_counts.size() != 1) fail("Comm::all_to_all: one count per rank needed");
  std::copy(send, send + send_counts[0], recv);
}
}  // namespace
void Comm::all_to_all(const std::complex<double>* send, const std::vector<std::size_t>& send_counts,
                      std::complex<double>* recv, const std::vector<std::size_t>& recv_counts) const {
  all_to_all_serial(send, send_counts, recv, recv_counts);
}
void Comm::all_to_all(const std::complex<float>* send, const std::vector<std::size_t>& send_counts,
                      std::complex<float>* recv, const std::vector<std::size_t>& recv_counts) const {
  all_to_all_serial(send, send_counts, recv, recv_counts);
}
double Comm::max(double v) const { return v; }
void Comm::broadcast(double*, std::size_t, int) const {}
void Comm::broadcast(std::string&, int) const {}
std::vector<std::string> Comm::gather(const std::string& mine, int) const { return {mine}; }
std::vector<std::string> Comm::all_gather(const std::string& mine) const { return {mine}; }
std::vector<std::size_t> Comm::all_gather_into(const char* mine, std::size_t n,
                                               const std::function<char*(std::size_t)>& buffer, std::size_t) const {
  return copy_own_bytes(mine, n, buffer);
}
bool launched_by_mpi() { return false; }
MpiSession::MpiSession(int*, char***) {}
MpiSession::~MpiSession() {}
#endif

namespace {
// the failure rethrow_on_every_rank last raised on this thread on a communicator of the whole job (the very
// exception object: std::rethrow_exception throws it, not a copy), and whether it was this rank's own
thread_local std::exception_ptr t_raised_on_every_rank;
thread_local bool t_raised_own = false;
template <class E>
[[noreturn]] void raise_remembered(const E& e, bool whole_job) {
  auto p = std::make_exception_ptr(e);
  if (whole_job) t_raised_on_every_rank = p, t_raised_own = false;
  std::rethrow_exception(p);
}
}  // namespace

void Comm::rethrow_on_every_rank(std::exception_ptr mine) const {
  t_raised_on_every_rank = nullptr;  // (only this call's failure counts)
  if (size_ == 1) {
    if (mine) std::rethrow_exception(mine);
    return;
  }
  // each rank's failure as its class (one character) and message; "" for none. The other ranks throw the same
  // class, so that a front door maps one failure to one status on every rank (the C API's RUNG_ERR_*): an Error of
  // its kind (1-3), FeatureUnavailable (U), MissingFile (M), or anything else, memory included (X: not rung's own)
  std::string text;
  if (mine) try {
      std::rethrow_exception(mine);
    } catch (const FeatureUnavailable& e) {
      text = std::string("U") + e.what();
    } catch (const MissingFile& e) {
      text = std::string("M") + e.what();
    } catch (const Error& e) {
      text = std::to_string(int(e.kind())) + e.what();
    } catch (const std::bad_alloc&) {
      text = "Xout of memory";
    } catch (const std::exception& e) {
      text = std::string("X") + e.what();
    } catch (...) {  // (anything else still reaches the collective: the other ranks must not wait for ever)
      text = "Xunknown exception";
    }
  const auto all = all_gather(text);
  bool any = false;
  for (const auto& t : all) any = any || !t.empty();
  if (!any) return;
  // (remembered for raised_on_every_rank: the failure this rank raises, when every rank of the job raises one)
  const bool whole_job = size_ == Comm().size();
  if (mine) {
    if (whole_job) t_raised_on_every_rank = mine, t_raised_own = true;
    std::rethrow_exception(mine);
  }
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r].empty()) continue;
    const std::string rank = "rank " + std::to_string(r), what = all[r].substr(1);
    switch (all[r][0]) {
      case 'U': raise_remembered(FeatureUnavailable(rank + ": " + what), whole_job);
      case 'M': raise_remembered(MissingFile(rank, what), whole_job);  // ("rank r: <file>: <what>")
      case 'X': raise_remembered(std::runtime_error(rank + ": " + what), whole_job);
      default: raise_remembered(Error(ErrorKind(all[r][0] - '0'), rank + ": " + what), whole_job);
    }
  }
}

bool Comm::raised_on_every_rank(const std::exception_ptr& e, bool* own) {
  const bool yes = e && t_raised_on_every_rank && e == t_raised_on_every_rank;
  if (own) *own = yes && t_raised_own;
  return yes;
}

std::pair<std::size_t, std::size_t> Comm::block(std::size_t n) const {
  const std::size_t r = std::size_t(rank_), p = std::size_t(size_);
  const std::size_t base = n / p, extra = n % p;
  const std::size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace rung
