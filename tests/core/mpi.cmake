# core/parallel under a launcher: plain programs under `mpirun -np 2`, not Catch (the ranks must run together);
# each prints PASS or FAIL on rank 0 for every rank's result, and a rank that fails exits non-zero (mpirun's
# exit code, which ctest checks).
#   idle_barrier_check: the task farms' idle barrier waits without spinning.
#   all_gather_check: Comm::all_gather_into (the oscillator table's gather): parts in rank order, offsets, contents.
#   agreed_check: agreed_on_every_rank makes one rank's failure every rank's (the C API's rank-local stages).
#   thread_level_check: under MPI_THREAD_FUNNELED a host's communicator from another thread is a usage error.
find_program(RUNG_MPIRUN NAMES mpirun mpiexec)
function(rung_core_mpi_check exe test)
  add_executable(${exe} core/${exe}.cpp)
  target_link_libraries(${exe} PRIVATE rung::core)
  if(RUNG_WITH_MPI AND RUNG_MPIRUN)
    add_test(NAME ${test} COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:${exe}>)
    set_tests_properties(${test} PROPERTIES LABELS "core;mpi" FAIL_REGULAR_EXPRESSION "FAIL" TIMEOUT 120)
  endif()
endfunction()
rung_core_mpi_check(idle_barrier_check core:idle_barrier_2_ranks)
rung_core_mpi_check(all_gather_check core:all_gather_2_ranks)
rung_core_mpi_check(agreed_check core:agreed_2_ranks)
rung_core_mpi_check(thread_level_check core:thread_level_2_ranks)
