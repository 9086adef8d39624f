#include "core/blas_threads.hpp"

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>

namespace rung {

namespace {
// Found at run time, as the ML layer finds them: the library links the reference BLAS interface only.
using GetThreads = int (*)();
using SetThreads = void (*)(int);
GetThreads openblas_get() {
  static auto f = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return f;
}
SetThreads openblas_set() {
  static auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return f;
}
SetThreads omp_set() {  // libgomp, loaded with the solver's library
  static auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  return f;
}
}  // namespace

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
  if (const auto f = omp_set()) f(threads);
  if (!std::getenv("OPENBLAS_NUM_THREADS")) set_openblas_threads(threads);
  return threads;
}

void set_openblas_threads(int threads) {
  if (const auto set = openblas_set(); set && threads > 0) set(threads);
}

SerialBlasScope::SerialBlasScope() {
  const auto get = openblas_get();
  const auto set = openblas_set();
  if (!get || !set) return;
  if (const int n = get(); n > 1) {
    previous_ = n;
    set(1);
  }
}

SerialBlasScope::~SerialBlasScope() {
  if (previous_ > 0) openblas_set()(previous_);
}

}  // namespace rung
