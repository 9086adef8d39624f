#include "core/thread_pools.hpp"

#include <mutex>

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>

namespace rung {

namespace {
using GetThreads = int (*)();
using SetThreads = void (*)(int);
template <class F>
F lookup(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}
GetThreads omp_get() {
  static const auto f = lookup<GetThreads>("omp_get_max_threads");
  return f;
}
SetThreads omp_set() {
  static const auto f = lookup<SetThreads>("omp_set_num_threads");
  return f;
}
GetThreads openblas_get() {
  static const auto f = lookup<GetThreads>("openblas_get_num_threads");
  return f;
}
SetThreads openblas_set() {
  static const auto f = lookup<SetThreads>("openblas_set_num_threads");
  return f;
}
// OpenBLAS's threading model: 0 serial, 1 pthreads, 2 OpenMP (-1: no OpenBLAS)
int openblas_parallel() {
  static const auto f = lookup<GetThreads>("openblas_get_parallel");
  return f ? f() : -1;
}
}  // namespace

int openmp_max_threads() {
  const auto f = omp_get();
  return f ? f() : 1;
}

void set_openmp_threads(int threads) {
  if (const auto f = omp_set(); f && threads > 0) f(threads);
}

int openblas_threads() {
  const auto f = openblas_get();
  return f && openblas_set() ? f() : 0;
}

void set_openblas_threads(int threads) {
  if (const auto f = openblas_set(); f && threads > 0) f(threads);
}

int ranks_on_this_node() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* s = std::getenv(v); s && *s) return std::max(1, std::atoi(s));
  return 1;
}

int share_cores_between_local_ranks() {
  if (std::getenv("OMP_NUM_THREADS")) return 0;
  const int local = ranks_on_this_node();
  if (local <= 1) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  const int threads = std::max(1, cpus / local);
  set_openmp_threads(threads);
  if (!std::getenv("OPENBLAS_NUM_THREADS")) set_openblas_threads(threads);
  return threads;
}

namespace {
// Scopes open on any thread of the process (OpenBLAS's count is process-wide): the first saves the host's count,
// the last puts it back, so two rung calls on two host threads cannot restore it under each other.
std::mutex serial_blas_mutex;
int serial_blas_scopes = 0;
int serial_blas_saved = 0;  // 0: nothing to put back
}  // namespace

SerialBlasScope::SerialBlasScope() {
  const std::lock_guard lock(serial_blas_mutex);
  if (serial_blas_scopes++ == 0) {
    serial_blas_saved = 0;
    // An OpenMP-built OpenBLAS runs serially inside a parallel region already, and before 0.3.22 its
    // openblas_set_num_threads also set the process's OpenMP thread count (rung's loops and the host's): left alone
    if (openblas_parallel() == 2) return;
    if (const int n = openblas_threads(); n > 1) {
      serial_blas_saved = n;
      set_openblas_threads(1);
    }
  }
}

SerialBlasScope::~SerialBlasScope() {
  const std::lock_guard lock(serial_blas_mutex);
  if (--serial_blas_scopes == 0 && serial_blas_saved > 0) set_openblas_threads(serial_blas_saved);
}

}  // namespace rung
