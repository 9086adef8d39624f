#pragma once
// A thin MPI communicator wrapper that degrades to a single rank when rung is built without MPI,
// so the solver and the task farms have one code path. MPI stays out of rung's public headers.
#include <complex>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

namespace rung {

class Comm {
public:
  Comm();                       // MPI_COMM_WORLD if MPI is initialised, else a serial communicator
  static Comm self();           // a one-rank communicator
  // A duplicate (MPI_Comm_dup, collective) of a host's communicator given as its Fortran integer handle: rung's
  // messages never meet the host's, and MPI errors on it abort (MPI_ERRORS_ARE_FATAL) rather than pass unseen
  // under a host's MPI_ERRORS_RETURN. Freed when the last copy of the Comm goes. MPI_COMM_NULL is a usage error,
  // and so is a call from a thread other than MPI's main one below MPI_THREAD_SERIALIZED.
  static Comm from_fortran(int fcomm);
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  bool is_mpi() const { return mpi_; }

  // Ends every rank of the job with `code` (MPI_Abort), for a failure on one rank that the others, waiting in a
  // collective, would never hear of; serial: std::exit(code). For a program's top level, never the library's.
  [[noreturn]] void abort(int code) const;
  void barrier() const;
  // A barrier that waits without spinning (MPI_Ibarrier tested every `poll_ms`, sleeping in between), for a
  // rank that may wait minutes for the others, as a task farm's finished rank does: MPI_Barrier busy-polls in
  // Open MPI and would take a core from the ranks (and their QE processes) still working. Every rank must call
  // idle_barrier: it does not match a barrier() on another rank.
  void idle_barrier(int poll_ms = 100) const;
  void sum(double* data, std::size_t n) const;           // in-place allreduce
  void sum(std::complex<double>* data, std::size_t n) const;
  void sum(long long* data, std::size_t n) const;
  // Personalised all-to-all: send_counts[r] values from `send` (segments in rank order) go to rank r, which
  // receives them as segment `rank` of its `recv` (recv_counts[r] values from rank r).
  void all_to_all(const std::complex<double>* send, const std::vector<std::size_t>& send_counts,
                  std::complex<double>* recv, const std::vector<std::size_t>& recv_counts) const;
  void all_to_all(const std::complex<float>* send, const std::vector<std::size_t>& send_counts,
                  std::complex<float>* recv, const std::vector<std::size_t>& recv_counts) const;
  double max(double v) const;
  void broadcast(double* data, std::size_t n, int root = 0) const;
  void broadcast(std::string& s, int root = 0) const;
  // Collect variable-length byte blobs from every rank onto `root` (index = rank).
  std::vector<std::string> gather(const std::string& mine, int root = 0) const;
  // The same on every rank.
  std::vector<std::string> all_gather(const std::string& mine) const;
  // Collective, for a stage that can fail on one rank alone: every rank passes its own failure (null if none), and
  // when any rank failed every rank throws, the failing one its own exception, the others one of the same class
  // (an Error of its kind, FeatureUnavailable, MissingFile, or a std::runtime_error for anything else, memory
  // included) whose message names that rank. No rank is left waiting in a later collective.
  void rethrow_on_every_rank(std::exception_ptr mine) const;
  // Whether `e` (std::current_exception() in a handler) is the failure rethrow_on_every_rank last raised on this
  // thread on a communicator of every rank of the job: every rank then raises one, and none waits in a collective,
  // so that a command can end without MPI_Abort (which may kill rank 0 before it has said what rank 1's failure
  // was). `own`: this rank's own failure (not another rank's, raised here too).
  static bool raised_on_every_rank(const std::exception_ptr& e, bool* own = nullptr);
  // Every rank's bytes in rank order into one buffer that `buffer(total)` provides (so the caller chooses its
  // allocation: no copy per rank); returns the offsets, rank r's part at [offset[r], offset[r + 1]). Any sizes:
  // a total above `max_message` bytes (an MPI count is an int) goes as pieces of at most that many.
  std::vector<std::size_t> all_gather_into(const char* mine, std::size_t n,
                                           const std::function<char*(std::size_t)>& buffer,
                                           std::size_t max_message = std::size_t(1) << 30) const;

  // Block distribution of n items: [begin, end) for this rank.
  std::pair<std::size_t, std::size_t> block(std::size_t n) const;

private:
  std::uintptr_t handle_ = 0;  // MPI_Comm stored opaquely
  std::shared_ptr<void> owned_;  // a duplicate this Comm frees (from_fortran)
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

// Runs f() on this rank and agrees with the others on its failure (Comm::rethrow_on_every_rank): for a rank-local
// stage (reading files, allocating) before a collective, so that one rank's failure is every rank's instead of
// leaving the others waiting in the collective. Every rank of `comm` must call it. Returns f's value (if any).
template <class F>
auto agreed_on_every_rank(const Comm& comm, F&& f) -> decltype(f()) {
  using R = decltype(f());
  std::exception_ptr failure;
  if constexpr (std::is_void_v<R>) {
    try {
      f();
    } catch (...) {
      failure = std::current_exception();
    }
    comm.rethrow_on_every_rank(failure);
  } else {
    std::optional<R> value;
    try {
      value.emplace(f());
    } catch (...) {
      failure = std::current_exception();
    }
    comm.rethrow_on_every_rank(failure);
    return std::move(*value);
  }
}

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx), or when
// RUNG_MPI=1; RUNG_MPI=0 says never. Always false without MPI support.
bool launched_by_mpi();

// The point-to-point layer MpiSession asked Open MPI for before MPI_Init ("ob1 (every rank on one node)"), or
// empty when it left the launcher's choice (not Open MPI, ranks on several nodes, the user chose one,
// RUNG_MPI_TRANSPORT=launcher, MPI initialised by the host, or no MPI).
const std::string& mpi_transport_choice();

// Initialises MPI if rung was built with it, nobody initialised it yet and the process runs under an MPI
// launcher (launched_by_mpi()); otherwise rung runs as one rank without MPI. Finalises on destruction only
// if it initialised. Safe to use as a guard in main().
class MpiSession {
public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

private:
  bool owns_ = false;
};

}  // namespace rung
