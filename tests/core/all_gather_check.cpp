// Run under `mpirun -np 2` (or more): Comm::all_gather_into puts every rank's bytes in rank order into the
// caller's buffer and returns the offsets of each part, and Comm::all_gather returns the same parts as strings. Rank r sends r·3 MB + 5 bytes
// of the value r (rank 0 a small part, the others megabytes), in one MPI call and in pieces.
// Exit code 0 = pass, 1 = fail.
#include "core/parallel.hpp"

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  rung::MpiSession session(&argc, &argv);
  const rung::Comm comm;
  if (comm.size() < 2) {
    std::printf("all_gather_check: needs at least 2 ranks, got %d\n", comm.size());
    return 1;
  }
  auto size_of = [](int r) {
    return std::size_t(r) * (std::size_t(3) << 20) + 5;
  };
  const std::string mine(size_of(comm.rank()), char('a' + comm.rank()));
  bool ok = true;
  // One MPI_Allgatherv (the default limit), then pieces of at most 4099 bytes: the route of a total beyond an
  // int's count, here with parts that are no multiple of the piece and one part smaller than a piece.
  for (std::size_t max_message : {std::size_t(1) << 30, std::size_t(4099)}) {
    std::vector<char> all;
    const auto offset = comm.all_gather_into(
        mine.data(), mine.size(),
        [&](std::size_t total) {
          all.resize(total);
          return all.data();
        },
        max_message);
    ok = ok && offset.size() == std::size_t(comm.size()) + 1 && offset.front() == 0 && offset.back() == all.size();
    for (int r = 0; ok && r < comm.size(); ++r) {
      ok = offset[r + 1] - offset[r] == size_of(r);
      for (std::size_t i = offset[r]; ok && i < offset[r + 1]; ++i) ok = all[i] == char('a' + r);
    }
    if (!ok)
      std::printf("all_gather_check: rank %d: wrong result with pieces of %zu bytes\n", comm.rank(), max_message);
  }
  const auto strings = comm.all_gather(mine);
  ok = ok && strings.size() == std::size_t(comm.size());
  for (int r = 0; ok && r < comm.size(); ++r) ok = strings[std::size_t(r)] == std::string(size_of(r), char('a' + r));
  // A buffer that fails on the last rank alone (out of memory): every rank raises, none waits in the transfer
  bool raised = false;
  try {
    comm.all_gather_into(mine.data(), mine.size(), [&](std::size_t total) -> char* {
      if (comm.rank() == comm.size() - 1) throw std::bad_alloc();
      static std::vector<char> unused;
      unused.resize(total);
      return unused.data();
    });
  } catch (const std::exception&) {
    raised = true;
  }
  if (!raised) std::printf("all_gather_check: rank %d: no error after the last rank's buffer failed\n", comm.rank());
  ok = ok && raised;
  long long failed = ok ? 0 : 1;  // every rank's result, not only the root's
  comm.sum(&failed, 1);
  if (comm.is_root())
    std::printf("all_gather_check: %s (%lld of %d ranks wrong)\n", failed ? "FAIL" : "PASS", failed, comm.size());
  return ok ? 0 : 1;
}
