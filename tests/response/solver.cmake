# The response solver (chi0, Dyson, rung spectrum): unit tests on synthetic oscillators, and the
# acceptance tests against YAMBO 5.2.4, yambo-tests and QE epsilon.x on the QE fixture runs.
rung_add_tests(test_chi0 LABELS "response" SOURCES response/chi0_unit.cpp response/occupations_unit.cpp)
rung_add_tests(test_solver LABELS "response" SOURCES response/spectrum_reference.cpp
               response/kramers_kronig_reference.cpp FIXTURES qe_runs)

# 1 vs 2 MPI ranks: identical to 1e-10 (a plain program under mpirun, not Catch: the ranks must run together).
add_executable(chi0_mpi_check response/chi0_mpi_check.cpp)
target_link_libraries(chi0_mpi_check PRIVATE rung::core)
target_include_directories(chi0_mpi_check PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/response)
find_program(RUNG_MPIRUN NAMES mpirun mpiexec)
if(RUNG_WITH_MPI AND RUNG_MPIRUN)
  add_test(NAME solver:mpi_1_vs_2_ranks
           COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:chi0_mpi_check>
                   ${RUNG_QE_RUNS_DIR}/yambo_tests_si/out/Si.save)
  set_tests_properties(solver:mpi_1_vs_2_ranks PROPERTIES LABELS "reference;response;mpi" FIXTURES_REQUIRED qe_runs
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 600)
endif()

# Metals and collinear spin against YAMBO 5.2.4 (fcc Al, bcc Fe) on the fixture's pw.x runs.
rung_add_tests(test_metals LABELS "response" SOURCES response/metals_reference.cpp FIXTURES qe_runs)

# A YAMBO SAVE as input (p2y's wavefunctions and KB tables) against YAMBO and against the pw.x run.
rung_add_tests(test_yambo_save LABELS "response" SOURCES response/yambo_save_reference.cpp FIXTURES qe_runs)
