#pragma once
// The process's thread pools as rung sees them: OpenMP's (libgomp, loaded with the solver's library and with
// LibTorch) and OpenBLAS's own. Both are found at run time (dlsym), so every layer, built with OpenMP or not,
// reads and sets the same pools, and a process without one of them simply has nothing to set.
//
// Debian's libblas.so.3 may be the pthread build of OpenBLAS, which does not know that it is called from an
// OpenMP thread: with both pools at the core count, every BLAS/LAPACK call of a parallel loop (the binning's
// ZHERKs, the Dyson solves) starts threads of its own and the process oversubscribes its cores (measured on a
// 2-core machine: the Si 113-G RPA took 3.2-4.6 s instead of 2.2-2.9 s on one thread). A SerialBlasScope makes
// OpenBLAS single-threaded for its lifetime and puts the previous count back afterwards, so a host's setting is
// what it was. The count is the process's: while any scope is open (on any thread), BLAS calls of the host's
// other threads run single-threaded too; the last scope to close restores the count the first one found.
namespace rung {

// OpenMP's omp_get_max_threads(); 1 when the process has no OpenMP runtime.
int openmp_max_threads();
// OpenMP's omp_set_num_threads(threads) for the rest of the process; nothing without an OpenMP runtime.
void set_openmp_threads(int threads);
// OpenBLAS's own pool; 0 without OpenBLAS (another BLAS, or the symbols absent).
int openblas_threads();
// Sets OpenBLAS's own pool to `threads` until it is set again (the CLI's per-rank setting; ml's HostThreadsGuard
// sets it for a prediction or a training and puts the earlier count back); nothing without OpenBLAS.
void set_openblas_threads(int threads);

// The number of ranks the MPI launcher started on this node (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE, MPICH/Intel
// MPI hydra's MPI_LOCALNRANKS), 1 without a launcher or when it does not say.
int ranks_on_this_node();

// For a process that owns its cores (the `rung` command, not the library): with several ranks on this node and
// no OMP_NUM_THREADS, each rank's OpenMP pool would default to every core the rank may run on, which under
// `mpirun --bind-to none` (or a scheduler that does not bind) is every core of the node: N ranks x N threads.
// Gives each rank its share instead, max(1, cores it may run on / ranks on this node), for OpenMP and (without
// OPENBLAS_NUM_THREADS) OpenBLAS. Returns the count it set, 0 when it left the pools alone.
int share_cores_between_local_ranks();

class SerialBlasScope {
public:
  SerialBlasScope();
  ~SerialBlasScope();
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;
};

}  // namespace rung
