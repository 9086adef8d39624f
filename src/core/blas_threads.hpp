#pragma once
// OpenBLAS's own thread pool inside rung's OpenMP regions. Debian's libblas.so.3 may be the pthread build of
// OpenBLAS, which does not know that it is called from an OpenMP thread: with both pools at the core count, every
// BLAS/LAPACK call of a parallel loop (the binning's ZHERKs, the Dyson solves) starts threads of its own and the
// process oversubscribes its cores (measured on a 2-core machine: the Si 113-G RPA took 3.2-4.6 s instead of
// 2.2-2.9 s on one thread). A SerialBlasScope makes OpenBLAS single-threaded for its lifetime and puts the
// previous count back afterwards, so a host's setting is what it was. Without OpenBLAS (another BLAS, or the
// symbols absent) it does nothing.
namespace rung {

// Sets OpenBLAS's own pool to `threads` for the rest of the process (the CLI's per-rank setting, ml's
// configure_torch_threads); does nothing without OpenBLAS.
void set_openblas_threads(int threads);

class SerialBlasScope {
public:
  SerialBlasScope();
  ~SerialBlasScope();
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;

private:
  int previous_ = 0;  // 0: nothing changed
};

}  // namespace rung
