# Theory-level selection: policy (exhaustive), cost model, validation on real YAMBO spectra, plots,
# YAMBO launch inputs, hook paths (owner: api).
rung_add_tests(test_select LABELS select SOURCES
  select/test_policy.cpp select/test_cost_model.cpp select/test_validation.cpp select/test_selection.cpp
  FIXTURES qe_runs)

# An untrained model set (random weights, `rung train --epochs 0`) drives the selection machinery in
# tests until trained weights are shipped; every decision made with it says so.
set(RUNG_UNTRAINED_MODELS ${CMAKE_BINARY_DIR}/untrained_models)
if(RUNG_WITH_TORCH)
  add_test(NAME fixture:untrained_models
           COMMAND ${CMAKE_COMMAND} -E env RUNG_OUT=${RUNG_UNTRAINED_MODELS}
                   sh -c "mkdir -p \"$RUNG_OUT\" && for t in ipa rpa sc; do $<TARGET_FILE:rung_cli> -q train --target $t --epochs 0 --ensemble 2 --seed 7 -o \"$RUNG_OUT/$t.h5\" || exit 1; done")
  set_tests_properties(fixture:untrained_models PROPERTIES FIXTURES_SETUP untrained_models LABELS "fixture;select")

  # `rung info` on rung's own HDF5 files summarises their metadata; a foreign HDF5 file (a netCDF-4
  # YAMBO database) is refused with its name and exit 2, not parsed as XML.
  add_test(NAME info:model_file COMMAND $<TARGET_FILE:rung_cli> info ${RUNG_UNTRAINED_MODELS}/sc.h5)
  set_tests_properties(info:model_file PROPERTIES LABELS "select;cli" FIXTURES_REQUIRED untrained_models
                       PASS_REGULAR_EXPRESSION "rung-optimate-model v2.*target: sc")
  set(_netcdf4 ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si_gamma8x8x8/yambo_sp/SAVE/ns.db1)
  add_test(NAME info:foreign_hdf5
           COMMAND sh -c "test -f '${_netcdf4}' || { echo 'RUNG-SKIP: ../shared/reference absent'; exit 0; }; \
$<TARGET_FILE:rung_cli> info '${_netcdf4}' 2>&1; echo \"exit status $?\"")
  set_tests_properties(info:foreign_hdf5 PROPERTIES LABELS "select;cli" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       PASS_REGULAR_EXPRESSION "ns.db1: an HDF5 file without rung's \"format\" attribute")

  # rung select end to end: a QE save and a structure file, JSON out, the untrained warning, the log.
  add_test(NAME select:cli_qe_save
           COMMAND $<TARGET_FILE:rung_cli> select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save
                   ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in --model ${RUNG_UNTRAINED_MODELS} --json
                   --log ${CMAKE_BINARY_DIR}/test_select_tmp/select_log.jsonl)
  set_tests_properties(select:cli_qe_save PROPERTIES LABELS select FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "\"untrained\": true")
  # --launch yambo writes the inputs and says what to run (YAMBO is not installed here).
  add_test(NAME select:cli_launch_yambo
           COMMAND $<TARGET_FILE:rung_cli> select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save --model ${RUNG_UNTRAINED_MODELS}
                   --threshold 1.0 --launch yambo --outdir ${CMAKE_BINARY_DIR}/test_select_tmp/launch --log -)
  set_tests_properties(select:cli_launch_yambo PROPERTIES LABELS select FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "YAMBO inputs written|yambo RPA ran")
  # --batch as an MPI task farm on 2 ranks: a save, a structure file and a missing file (recorded as
  # failed, the others go on), then the summary from rank 0.
  if(RUNG_WITH_MPI)
    set(_list ${CMAKE_BINARY_DIR}/test_select_tmp/batch.txt)
    file(WRITE ${_list} "# rung select --batch test\n${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save\n"
                        "${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in\n/nonexistent/missing.cif\n")
    add_test(NAME select:cli_batch_mpi2
             COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:rung_cli> -q select
                     --batch ${_list} --model ${RUNG_UNTRAINED_MODELS} --log ${CMAKE_BINARY_DIR}/test_select_tmp/batch_log.jsonl)
    set_tests_properties(select:cli_batch_mpi2 PROPERTIES LABELS select FIXTURES_REQUIRED "qe_runs;untrained_models"
                         PASS_REGULAR_EXPRESSION "summary: 2 materials \\(1 failed\\): 0 ipa-sufficient, 2 rpa-needed")
  endif()
endif()

# rung validate on the team's YAMBO runs, with a plot; and a missing file -> exit code 2.
set(_ysp ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp)
if(EXISTS ${_ysp})
  add_test(NAME select:cli_validate
           COMMAND $<TARGET_FILE:rung_cli> validate ${_ysp}/o-ip_x.eps_q1_ip ${_ysp}/o-rpa_ng113_x.eps_q1_inv_rpa_dyson
                   ${_ysp}/o-rpa_ng59_x.eps_q1_inv_rpa_dyson --plot ${CMAKE_BINARY_DIR}/test_select_tmp/cli_validate.png)
  set_tests_properties(select:cli_validate PROPERTIES LABELS select PASS_REGULAR_EXPRESSION "o-rpa_ng113_x +0\\.86")
endif()
# (exit code 2 and the file named in the one-line message)
add_test(NAME select:cli_validate_missing
         COMMAND sh -c "out=$($<TARGET_FILE:rung_cli> validate /nonexistent/a.h5 /nonexistent/b.h5 2>&1); test $? -eq 2 && echo \"$out\" | grep -q /nonexistent/a.h5 && echo named-and-exit-2")
set_tests_properties(select:cli_validate_missing PROPERTIES LABELS select
                     PASS_REGULAR_EXPRESSION "named-and-exit-2")
