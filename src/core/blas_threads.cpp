#include "core/blas_threads.hpp"

#include <dlfcn.h>

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
}  // namespace

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
