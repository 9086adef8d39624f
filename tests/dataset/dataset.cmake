# The data-set factory (`rung dataset`, src/dataset/): k grids, symmetry, records, restart,
# failure recording, stats, and one tiny end-to-end run with pw.x (skipped without pw.x).
rung_add_tests(test_dataset LABELS "dataset" SOURCES dataset/test_dataset.cpp)

# `rung dataset pw-input` writes the factory's scf input (what tools/validate_pseudo_gaps.py runs): Si in its
# 2-atom primitive cell, 8 valence electrons -> 4 occupied + 4 empty bands.
set(_pwi ${CMAKE_BINARY_DIR}/dataset-pw-input)
add_test(NAME dataset:pw_input
  COMMAND sh -c "rm -rf '${_pwi}' && $<TARGET_FILE:rung_cli> dataset pw-input --structures ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in --out-dir ${_pwi} && \
grep -c '^  Si ' ${_pwi}/scf.in/scf.in")
set_tests_properties(dataset:pw_input PROPERTIES LABELS "dataset"
  PASS_REGULAR_EXPRESSION "\"id\":\"scf.in\".*\"nbnd\":8.*\"valence_electrons\":8.0}\n3")
# a structure whose input cannot be written (Fe: no pseudopotential in rung's table) has its error line on stdout and
# on stderr, the others their inputs; exit 2
set(_pwf ${CMAKE_BINARY_DIR}/dataset-pw-input-fails)
file(WRITE ${_pwf}.jsonl
  "{\"id\": \"si-ok\", \"lattice\": [[0, 2.7155, 2.7155], [2.7155, 0, 2.7155], [2.7155, 2.7155, 0]], \"species\": [\"Si\", \"Si\"], \"frac_coords\": [[0, 0, 0], [0.25, 0.25, 0.25]]}\n"
  "{\"id\": \"feo\", \"lattice\": [[0, 2.2, 2.2], [2.2, 0, 2.2], [2.2, 2.2, 0]], \"species\": [\"Fe\", \"O\"], \"frac_coords\": [[0, 0, 0], [0.5, 0.5, 0.5]]}\n")
add_test(NAME dataset:pw_input_failure_exits_2
  COMMAND sh -c "rm -rf '${_pwf}' && $<TARGET_FILE:rung_cli> dataset pw-input --structures ${_pwf}.jsonl --out-dir ${_pwf} \
2>'${_pwf}.err'; echo \"exit $?\"; cat '${_pwf}.err'; test -s '${_pwf}/si-ok/scf.in' && echo si-written")
set_tests_properties(dataset:pw_input_failure_exits_2 PROPERTIES LABELS "dataset"
  PASS_REGULAR_EXPRESSION "\"id\":\"si-ok\"[^\n]*\n[^\n]*\"error\":[^\n]*\"id\":\"feo\"[^\n]*\nexit 2\nrung dataset pw-input: feo: [^\n]*Fe[^\n]*\nrung dataset pw-input: 1 of 2 structures failed\nsi-written\n")
# a bad request names its key; exit 3
add_test(NAME dataset:run_bad_option
  COMMAND sh -c "$<TARGET_FILE:rung_cli> dataset run --structures x.jsonl --out y.h5 --window -1; echo \"exit $?\"")
set_tests_properties(dataset:run_bad_option PROPERTIES LABELS "dataset"
  PASS_REGULAR_EXPRESSION "option \"window_eV\" must be positive.*exit 3\n")
# --solver-options sets its keys on top of the factory's solver defaults (points_per_eta 15), not the solver's
# own (30): a 2-atom Si above --max-atoms 1 is recorded "skipped" at once, with its settings; the run exits 0,
# its summary (stdout) counts the material as skipped, and the data set is written. The record is one line of
# compact JSON (json::dump(), keys sorted: "settings" before "status"). Under -q no material's progress line.
set(_so ${CMAKE_BINARY_DIR}/dataset-solver-options)
file(WRITE ${_so}.jsonl "{\"id\": \"si-so\", \"lattice\": [[0, 2.7155, 2.7155], [2.7155, 0, 2.7155], [2.7155, 2.7155, 0]], \"species\": [\"Si\", \"Si\"], \"frac_coords\": [[0, 0, 0], [0.25, 0.25, 0.25]]}\n")
add_test(NAME dataset:run_solver_options_keep_factory_defaults
  COMMAND sh -c "rm -rf '${_so}' && $<TARGET_FILE:rung_cli> -q dataset run --structures ${_so}.jsonl --out ${_so}/d.h5 \
--work-dir ${_so}/w --max-atoms 1 --solver-options '{\"converge_sc\": 0.995}' 2>&1; echo \"exit status $?\"; \
test -s ${_so}/d.h5 && echo data-set-written; cat ${_so}/w/records/si-so.json")
set_tests_properties(dataset:run_solver_options_keep_factory_defaults PROPERTIES LABELS "dataset" FAIL_REGULAR_EXPRESSION "ETA"
  PASS_REGULAR_EXPRESSION "1 structures \\(0 finished before, 1 computed now; 0 failed, 1 skipped\\).*exit status 0\ndata-set-written\n.*\"reason\":\"2 atoms > --max-atoms 1\".*\"solver_options\":{[^}]*\"converge_sc\":0.995[^}]*\"points_per_eta\":15.0[^}]*}.*\"status\":\"skipped\"")
# Two ranks share the materials; only rank 0 prints progress lines (one per material it finishes, what is left
# counted for the whole run), the other rank none (they named their rank: "rung dataset [rank 1] ...").
if(RUNG_WITH_MPI)
  set(_mr ${CMAKE_BINARY_DIR}/dataset-mpi-progress)
  file(WRITE ${_mr}.jsonl "")
  foreach(_i 1 2 3 4 5 6)
    file(APPEND ${_mr}.jsonl "{\"id\": \"si-${_i}\", \"lattice\": [[0, 2.7155, 2.7155], [2.7155, 0, 2.7155], [2.7155, 2.7155, 0]], \"species\": [\"Si\", \"Si\"], \"frac_coords\": [[0, 0, 0], [0.25, 0.25, 0.25]]}\n")
  endforeach()
  add_test(NAME dataset:run_mpi_progress_rank_0_only
    COMMAND sh -c "rm -rf '${_mr}' && ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:rung_cli> \
dataset run --structures ${_mr}.jsonl --out ${_mr}/d.h5 --work-dir ${_mr}/w --max-atoms 1 2>&1; echo \"exit status $?\"")
  set_tests_properties(dataset:run_mpi_progress_rank_0_only PROPERTIES LABELS "dataset"
    PASS_REGULAR_EXPRESSION "rung dataset: 2 ranks; a line for each material rank 0 finishes.*6 structures \\(0 finished before, 6 computed now; 0 failed, 6 skipped\\).*exit status 0\n"
    FAIL_REGULAR_EXPRESSION "\\[rank")
endif()
