// Run under `mpirun -np 2`: with MPI at MPI_THREAD_FUNNELED (what rung's MpiSession asks for, and what many hosts
// ask for), a communicator given from a thread other than MPI's main one is refused as a usage error before any
// MPI call on it, on every rank; the same call from the main thread duplicates the communicator (a collective
// that both ranks then meet). Exit code 0 = pass, 1 = fail; prints PASS or FAIL.
#include "core/error.hpp"
#include "core/parallel.hpp"

#include <mpi.h>

#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  rung::MpiSession session(&argc, &argv);
  const rung::Comm world;
  int provided = 0;
  MPI_Query_thread(&provided);
  const int fcomm = static_cast<int>(MPI_Comm_c2f(MPI_COMM_WORLD));
  std::string what;
  bool usage = false;
  std::thread other([&] {
    try {
      (void)rung::Comm::from_fortran(fcomm);
    } catch (const rung::Error& e) {
      usage = e.kind() == rung::ErrorKind::usage;
      what = e.what();
    }
  });
  other.join();
  // from the main thread the same call works, and the duplicate is usable by both ranks
  const rung::Comm dup = rung::Comm::from_fortran(fcomm);
  double one = 1;
  dup.sum(&one, 1);
  const bool ok = provided == MPI_THREAD_FUNNELED && world.size() == 2 && usage &&
                  what.find("MPI_THREAD_FUNNELED") != std::string::npos && one == 2;
  std::printf("thread_level_check: rank %d, thread level %d, from another thread: %s; main thread: sum %g: %s\n",
              world.rank(), provided, what.empty() ? "accepted" : what.c_str(), one, ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
