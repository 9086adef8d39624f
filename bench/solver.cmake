# `cmake --build <dir> --target bench_solver`: the response solver benchmark (bench/solver.sh); not a test.
add_custom_target(bench_solver
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/solver.sh $<TARGET_FILE:rung_cli> ${CMAKE_BINARY_DIR}/qe_runs
          ${PROJECT_SOURCE_DIR}/../shared/reference ${CMAKE_BINARY_DIR}/bench_solver
  DEPENDS rung_cli
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "rung solver benchmark (fast vs direct chi0, MPI ranks, YAMBO and turbo_eels.x peers)")
