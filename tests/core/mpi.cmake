# core/parallel under a launcher: the task farms' idle barrier waits without spinning (a plain program under
# mpirun, not Catch: the ranks must run together).
add_executable(idle_barrier_check core/idle_barrier_check.cpp)
target_link_libraries(idle_barrier_check PRIVATE rung::core)
find_program(RUNG_MPIRUN NAMES mpirun mpiexec)
if(RUNG_WITH_MPI AND RUNG_MPIRUN)
  add_test(NAME core:idle_barrier_2_ranks
           COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:idle_barrier_check>)
  set_tests_properties(core:idle_barrier_2_ranks PROPERTIES LABELS "core;mpi" PASS_REGULAR_EXPRESSION "PASS"
                       TIMEOUT 120)
endif()

# Comm::all_gather_into (the oscillator table's gather): parts in rank order, offsets, contents.
add_executable(all_gather_check core/all_gather_check.cpp)
target_link_libraries(all_gather_check PRIVATE rung::core)
if(RUNG_WITH_MPI AND RUNG_MPIRUN)
  add_test(NAME core:all_gather_2_ranks
           COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:all_gather_check>)
  set_tests_properties(core:all_gather_2_ranks PROPERTIES LABELS "core;mpi" PASS_REGULAR_EXPRESSION "PASS"
                       TIMEOUT 120)
endif()
