# The response solver (chi0, Dyson, rung spectrum): unit tests on synthetic oscillators, and the
# reference tests against YAMBO 5.2.4, yambo-tests and QE epsilon.x on the QE fixture runs.
rung_add_tests(test_chi0 LABELS "response" SOURCES response/chi0_unit.cpp response/occupations_unit.cpp)
rung_add_tests(test_solver LABELS "response" SOURCES response/spectrum_reference.cpp
               response/kramers_kronig_reference.cpp FIXTURES qe_runs)
rung_test_uses_cli(test_solver)  # its bad-input case runs `rung spectrum`
if(OpenMP_CXX_FOUND)  # the threads tests set the OpenMP thread count around the solver's calls
  target_link_libraries(test_chi0 PRIVATE OpenMP::OpenMP_CXX)
  target_link_libraries(test_solver PRIVATE OpenMP::OpenMP_CXX)
endif()

# 1 vs 2 MPI ranks: identical to 1e-10 (a plain program under mpirun, not Catch: the ranks must run together).
add_executable(chi0_mpi_check response/chi0_mpi_check.cpp)
target_link_libraries(chi0_mpi_check PRIVATE rung::core)
target_include_directories(chi0_mpi_check PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/response)
find_program(RUNG_MPIRUN NAMES mpirun mpiexec)
if(RUNG_WITH_MPI AND RUNG_MPIRUN)
  add_test(NAME solver:mpi_1_vs_2_ranks
           COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:chi0_mpi_check>
                   ${RUNG_QE_RUNS_DIR}/yambo_tests_si/out/Si.save ${RUNG_SHARED_DIR}/reference)
  set_tests_properties(solver:mpi_1_vs_2_ranks PROPERTIES LABELS "reference;response;mpi" FIXTURES_REQUIRED qe_runs
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 600 SKIP_REGULAR_EXPRESSION "RUNG-SKIP:")
  # three ranks: a rank count that divides neither the columns nor the frequencies evenly
  add_test(NAME solver:mpi_1_vs_3_ranks
           COMMAND ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 3 $<TARGET_FILE:chi0_mpi_check>
                   ${RUNG_QE_RUNS_DIR}/yambo_tests_si/out/Si.save ${RUNG_SHARED_DIR}/reference)
  set_tests_properties(solver:mpi_1_vs_3_ranks PROPERTIES LABELS "reference;response;mpi" FIXTURES_REQUIRED qe_runs
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 600 SKIP_REGULAR_EXPRESSION "RUNG-SKIP:")
  # one rank's wavefunction file cut short: every rank raises the failure before the next collective, so rank 0
  # names rank 1's file too (no rank left waiting in a sum, as a C API host's communicator would be)
  set(_tr ${CMAKE_BINARY_DIR}/solver-truncated-wfc)
  add_test(NAME solver:mpi_one_rank_fails_all_raise
           COMMAND sh -c "rm -rf '${_tr}' && cp -r ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save '${_tr}' && \
truncate -s 100 '${_tr}/wfc8.dat' && ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:rung_cli> -q \
spectrum '${_tr}' --theory rpa --gblock 9 -o '${_tr}.h5' 2>&1; echo \"exit status $?\"; test -e '${_tr}.h5' && echo written")
  set_tests_properties(solver:mpi_one_rank_fails_all_raise PROPERTIES LABELS "cli;response;mpi" FIXTURES_REQUIRED qe_runs
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 120
                       PASS_REGULAR_EXPRESSION "rank 1: [^\n]*wfc8.dat[^\n]*truncated.*exit status 2\n"
                       FAIL_REGULAR_EXPRESSION "written")
endif()

# the command line converges only when asked, however the theory is spelt: an RPA without a block is refused
# before any work (a usage error: exit status 3), and nothing is written
set(_nb ${CMAKE_BINARY_DIR}/solver-rpa-without-block.h5)
add_test(NAME solver:cli_rpa_needs_a_block
         COMMAND sh -c "rm -f '${_nb}'; $<TARGET_FILE:rung_cli> -q spectrum ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save \
--theory RPA -o '${_nb}' 2>&1; echo \"exit status $?\"; test -e '${_nb}' && echo written")
set_tests_properties(solver:cli_rpa_needs_a_block PROPERTIES LABELS "cli;response" FIXTURES_REQUIRED qe_runs
                     TIMEOUT 60 PASS_REGULAR_EXPRESSION "--theory rpa needs --gblock[^\n]*--converge\nexit status 3\n"
                     FAIL_REGULAR_EXPRESSION "written")

# Metals and collinear spin against YAMBO 5.2.4 (fcc Al, bcc Fe) on the fixture's pw.x runs.
rung_add_tests(test_metals LABELS "response" SOURCES response/metals_reference.cpp FIXTURES qe_runs)

# A YAMBO SAVE as input (p2y's wavefunctions and KB tables) against YAMBO and against the pw.x run.
rung_add_tests(test_yambo_save LABELS "response" SOURCES response/yambo_save_reference.cpp FIXTURES qe_runs)
rung_test_uses_cli(test_yambo_save)  # `rung info` on a SAVE without wavefunctions

# Under mpirun with both ranks on this node rung asks Open MPI for the ob1 point-to-point layer (MPI_Init
# about 0.2 s faster) and records it; a layer the user chose (OMPI_MCA_pml, as mpirun --mca pml sets it) or
# RUNG_MPI_TRANSPORT=launcher is left alone and nothing is recorded. The expression needs all three results.
if(RUNG_WITH_MPI AND RUNG_MPIRUN)
  set(_mt ${CMAKE_CURRENT_BINARY_DIR}/mpi_transport)
  set(_mt_run ${RUNG_MPIRUN} --allow-run-as-root --oversubscribe -np 2)
  set(_mt_args -q spectrum ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save --theory rpa --gblock 9 --direction x)
  string(REPLACE ";" " " _mt_run "${_mt_run}")
  string(REPLACE ";" " " _mt_args "${_mt_args}")
  add_test(NAME solver:mpi_transport_single_node
           COMMAND sh -c "rm -rf '${_mt}' && mkdir -p '${_mt}' && cd '${_mt}' && \
${_mt_run} $<TARGET_FILE:rung_cli> ${_mt_args} -o a.h5 --yambo-text a.txt && \
echo \"chosen: $(grep -o '\"mpi_transport\":\"[^\"]*\"' a.txt)\" && \
${_mt_run} --mca pml ob1 $<TARGET_FILE:rung_cli> ${_mt_args} -o b.h5 --yambo-text b.txt && \
echo \"user: $(grep -c mpi_transport b.txt)\" && \
RUNG_MPI_TRANSPORT=launcher ${_mt_run} -x RUNG_MPI_TRANSPORT $<TARGET_FILE:rung_cli> ${_mt_args} -o c.h5 --yambo-text c.txt && \
echo \"launcher: $(grep -c mpi_transport c.txt)\"")
  set_tests_properties(solver:mpi_transport_single_node PROPERTIES LABELS "cli;mpi" FIXTURES_REQUIRED qe_runs
                       ENVIRONMENT "OMP_NUM_THREADS=1"
                       PASS_REGULAR_EXPRESSION "chosen: \"mpi_transport\":\"ob1 \\(every rank on one node\\)\".*user: 0\n.*launcher: 0\n"
                       TIMEOUT 300)
  # Two ranks without binding and without OMP_NUM_THREADS: each rank gets its share of the cores it may run on
  # (max(1, nproc / 2)), not all of them (2 x nproc threads on nproc cores otherwise; core/thread_pools.hpp); a
  # plain run keeps OpenMP's default, every core; OMP_NUM_THREADS, when given, is left as it is. (coreutils' nproc
  # itself honours OMP_NUM_THREADS, which tools/test.sh sets: it is asked without it.)
  add_test(NAME solver:mpi_threads_per_rank
           COMMAND sh -c "rm -rf '${_mt}_threads' && mkdir -p '${_mt}_threads' && cd '${_mt}_threads' && \
n=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) && share=$((n / 2)) && [ $share -ge 1 ] || share=1; \
env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS ${_mt_run} --bind-to none $<TARGET_FILE:rung_cli> ${_mt_args} -o a.h5 --yambo-text a.txt && \
env -u OMP_NUM_THREADS $<TARGET_FILE:rung_cli> ${_mt_args} -o b.h5 --yambo-text b.txt && \
OMP_NUM_THREADS=1 ${_mt_run} --bind-to none -x OMP_NUM_THREADS $<TARGET_FILE:rung_cli> ${_mt_args} -o c.h5 --yambo-text c.txt && \
t() { grep -o '\"openmp_threads_per_rank\":[0-9]*' $1 | cut -d: -f2; } && \
echo \"ranks $(t a.txt) expected $share; plain $(t b.txt) expected $n; given $(t c.txt) expected 1\" && \
[ \"$(t a.txt)\" = $share ] && [ \"$(t b.txt)\" = $n ] && [ \"$(t c.txt)\" = 1 ]")
  set_tests_properties(solver:mpi_threads_per_rank PROPERTIES LABELS "cli;mpi" FIXTURES_REQUIRED qe_runs TIMEOUT 300)
endif()
