// Run under `mpirun -np 2`: agreed_on_every_rank makes one rank's failure every rank's. Rank 1 fails a rank-local
// stage (as a file it alone cannot read, or an allocation), rank 0's succeeds: both must throw (rank 0 an error
// naming rank 1), and a collective afterwards must still meet (no rank left behind in the agreement). Exit code
// 0 = pass, 1 = fail; prints PASS or FAIL.
#include "core/error.hpp"
#include "core/parallel.hpp"

#include <cstdio>
#include <new>
#include <string>

int main(int argc, char** argv) {
  rung::MpiSession session(&argc, &argv);
  const rung::Comm comm;
  if (comm.size() != 2) {
    std::printf("agreed_check: needs 2 ranks, got %d\n", comm.size());
    return 1;
  }
  std::string what;
  bool threw = false;
  try {
    const int v = rung::agreed_on_every_rank(comm, [&] {
      if (comm.rank() == 1) rung::fail("a file only rank 1 cannot read");
      return 42;
    });
    what = std::to_string(v);
  } catch (const rung::Error& e) {
    threw = true;
    what = e.what();
  }
  // a failure of another class is the same class on every rank (one status per failure at the C API): a missing
  // file, and memory (not rung's own exception)
  bool missing_everywhere = false, memory_everywhere = false;
  try {
    rung::agreed_on_every_rank(comm, [&] {
      if (comm.rank() == 1) rung::fail_missing("WFC1.dat", "not found");
      return 0;
    });
  } catch (const rung::MissingFile&) {
    missing_everywhere = true;
  }
  try {
    rung::agreed_on_every_rank(comm, [&] {
      if (comm.rank() == 0) throw std::bad_alloc();
      return 0;
    });
  } catch (const rung::Error&) {
  } catch (const std::exception&) {  // bad_alloc on rank 0, std::runtime_error "rank 0: out of memory" on rank 1
    memory_everywhere = true;
  }
  double one = 1;
  comm.sum(&one, 1);  // both ranks reach it: nobody waits in the agreement
  // and a stage that succeeds everywhere returns its value on every rank
  const int ok_value = rung::agreed_on_every_rank(comm, [&] { return comm.rank() + 10; });
  const bool ok = threw && one == 2 && ok_value == comm.rank() + 10 && missing_everywhere && memory_everywhere &&
                  (comm.rank() == 1 ? what.find("rank 1 cannot read") != std::string::npos
                                    : what.find("rank 1") != std::string::npos);
  std::printf("agreed_check: rank %d %s (%s): %s\n", comm.rank(), threw ? "threw" : "did not throw", what.c_str(),
              ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
