# The shared reference data the solver benchmarks compare with (its reference/ folder: YAMBO's and QE's outputs).
# The same folder as the tests' ../shared beside the source tree unless -DRUNG_SHARED_DIR=... says otherwise.
get_filename_component(_rung_shared_default "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
set(RUNG_SHARED_DIR "${_rung_shared_default}" CACHE PATH "folder of the shared reference data (reference/, structures/)")

# `cmake --build <dir> --target bench_solver`: the response solver benchmark (bench/solver.sh); not a test.
add_custom_target(bench_solver
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/solver.sh $<TARGET_FILE:rung_cli> ${CMAKE_BINARY_DIR}/qe_runs
          ${RUNG_SHARED_DIR}/reference ${CMAKE_BINARY_DIR}/bench_solver
  DEPENDS rung_cli
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "rung solver benchmark (fast vs direct chi0, MPI ranks, YAMBO and turbo_eels.x peers)")

# `cmake --build <dir> --target bench_solver_yambo`: rung vs YAMBO 5.2.4 on the Si case (bench/solver_yambo.py),
# 1 core, start-up included, stage times, peak memory, 1 and 2 ranks; YAMBO is not run: its times are the ones
# recorded beside rung's in reference/yambo-5.2.4/Si/TIMINGS-same-machine.md.
add_custom_target(bench_solver_yambo
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/solver_yambo.py $<TARGET_FILE:rung_cli>
          ${CMAKE_BINARY_DIR}/qe_runs/si_shifted_888/out/si.save
          ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp --out ${CMAKE_BINARY_DIR}/bench_solver_yambo
  DEPENDS rung_cli
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "rung vs YAMBO 5.2.4 (Si, 1 core, start-up included; YAMBO's recorded times, not run here)")

# `cmake --build <dir> --target bench_probe_cost`: what rung select's QE probe (59 G) costs against the converged
# RPA (--converge) and against one run at the converged block, on the fixture saves (bench/probe_cost.py).
add_custom_target(bench_probe_cost
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/probe_cost.py $<TARGET_FILE:rung_cli>
          ${CMAKE_BINARY_DIR}/qe_runs/si_shifted_888/out/si.save ${CMAKE_BINARY_DIR}/qe_runs/yambo_tests_si/out/Si.save
  DEPENDS rung_cli
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "rung select's probe against the converged RPA (same run, same machine)")
