// Run under `mpirun -np 2`: Comm::idle_barrier waits without spinning. Rank 1 sleeps 2 s before it enters the
// barrier; rank 0, already inside, must spend that time asleep: its CPU time over the wait below a quarter of
// the wall time (Open MPI's MPI_Barrier busy-polls: about as much CPU as wall, so a spinning barrier fails).
// Exit code 0 = pass, 1 = fail.
#include "core/parallel.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

int main(int argc, char** argv) {
  rung::MpiSession session(&argc, &argv);
  const rung::Comm comm;
  if (comm.size() != 2) {
    std::printf("idle_barrier_check: needs 2 ranks, got %d\n", comm.size());
    return 1;
  }
  comm.barrier();
  if (comm.rank() == 1) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    comm.idle_barrier();
    return 0;
  }
  const auto wall0 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  comm.idle_barrier(50);
  const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  // (wall: rank 0 did wait, with 1.5 s for its own start after the first barrier on a loaded machine)
  const bool ok = wall > 0.5 && cpu < 0.25 * wall;
  std::printf("idle_barrier_check: rank 0 waited %.2f s wall, %.3f s CPU: %s\n", wall, cpu, ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
