# Theory-level selection: policy (exhaustive), cost model, validation on real YAMBO spectra, plots,
# YAMBO launch inputs, hook paths (owner: api).
rung_add_tests(test_select LABELS select SOURCES
  select/test_policy.cpp select/test_cost_model.cpp select/test_validation.cpp select/test_selection.cpp
  select/test_evidence.cpp select/test_requests.cpp select/test_plot.cpp
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
  set_tests_properties(info:model_file PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED untrained_models
                       PASS_REGULAR_EXPRESSION "rung-optimate-model v2.*target: sc")
  set(_netcdf4 ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si_gamma8x8x8/yambo_sp/SAVE/ns.db1)
  add_test(NAME info:foreign_hdf5
           COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}\
$<TARGET_FILE:rung_cli> info '${_netcdf4}' 2>&1; echo \"exit status $?\"")
  set_tests_properties(info:foreign_hdf5 PROPERTIES LABELS "cli;select" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       PASS_REGULAR_EXPRESSION "ns.db1: an HDF5 file without rung's \"format\" attribute.*exit status 2\n")

  # rung select end to end: a QE save and a structure file, JSON out, the untrained warning, exit 0, and the
  # decision log written (a fresh one: the log from an earlier run is removed first, as the log appends).
  set(_sl ${CMAKE_BINARY_DIR}/test_select_tmp/select_log.jsonl)
  add_test(NAME select:cli_qe_save
           COMMAND sh -c "rm -f '${_sl}' && mkdir -p '${CMAKE_BINARY_DIR}/test_select_tmp' && \
$<TARGET_FILE:rung_cli> select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in \
--model ${RUNG_UNTRAINED_MODELS} --json --log '${_sl}'; echo \"exit status $?\"; \
test -s '${_sl}' && grep -q '\"decision\"' '${_sl}' && echo log-written")
  set_tests_properties(select:cli_qe_save PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "\"untrained\": true.*exit status 0\nlog-written")
  # --launch yambo writes the inputs (one rung_rpa_*.in per field direction, and run_yambo.sh in
  # OUTDIR/<stem>_yambo) and says what to run (YAMBO is not installed here); exit 0.
  set(_ly ${CMAKE_BINARY_DIR}/test_select_tmp/launch)
  add_test(NAME select:cli_launch_yambo
           COMMAND sh -c "rm -rf '${_ly}' && $<TARGET_FILE:rung_cli> select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save \
--model ${RUNG_UNTRAINED_MODELS} --threshold 1.0 --launch yambo --outdir '${_ly}' --log -; echo \"exit status $?\"; \
set -- '${_ly}'/*_yambo/rung_rpa_*.in; test -s \"$1\" && test -s \"$(dirname \"$1\")/run_yambo.sh\" && echo yambo-inputs-on-disk")
  set_tests_properties(select:cli_launch_yambo PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "(YAMBO inputs written|yambo RPA ran).*exit status 0\nyambo-inputs-on-disk")
  # The decision log is appended to in place: an existing log that the user may write is enough, in a folder they
  # may not write (shown as the unprivileged user nobody, which needs root to become; skipped otherwise).
  set(_lr ${CMAKE_BINARY_DIR}/test_select_tmp/log_read_only_folder)
  add_test(NAME select:cli_log_in_read_only_folder
           COMMAND sh -c "test \"$(id -u)\" = 0 && command -v runuser >/dev/null || { echo 'RUNG-SKIP: needs root and runuser'; exit 0; }; \
rm -rf '${_lr}' && mkdir -p '${_lr}' && chmod 755 '${_lr}' && : > '${_lr}/log.jsonl' && chmod 666 '${_lr}/log.jsonl' && \
{ runuser -u nobody -- sh -c 'test -w \"$1\" && test -x \"$2\"' - '${_lr}/log.jsonl' $<TARGET_FILE:rung_cli> || \
{ echo 'RUNG-SKIP: the build folder is out of reach of the user nobody'; exit 0; }; } && \
runuser -u nobody -- $<TARGET_FILE:rung_cli> -q select ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in --no-probe \
--launch none --model ${RUNG_UNTRAINED_MODELS} --log '${_lr}/log.jsonl' > /dev/null; echo \"exit $?\"; wc -l < '${_lr}/log.jsonl'")
  set_tests_properties(select:cli_log_in_read_only_folder PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED
                       "untrained_models" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:" PASS_REGULAR_EXPRESSION "exit 0\n1\n")
  # The decisions figure: written (atomically) as a PNG whose first bytes say so.
  add_test(NAME select:cli_plot
           COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}rm -f '${CMAKE_BINARY_DIR}/test_select_tmp/decisions.png' && $<TARGET_FILE:rung_cli> -q select \
${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in --model ${RUNG_UNTRAINED_MODELS} \
--log - --plot '${CMAKE_BINARY_DIR}/test_select_tmp/decisions.png' > /dev/null && head -c 4 '${CMAKE_BINARY_DIR}/test_select_tmp/decisions.png' | od -c")
  set_tests_properties(select:cli_plot PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       SKIP_REGULAR_EXPRESSION "RUNG-SKIP:" PASS_REGULAR_EXPRESSION "P   N   G")
  # A save with only the occupied bands (a plain scf, what `rung hook -- pw.x -in scf.in` leaves): no probe, the
  # model decides, the launch is skipped, and both say which nscf run gives the empty bands; the decision is logged.
  set(_occ ${CMAKE_BINARY_DIR}/test_select_tmp/occupied)
  add_test(NAME select:cli_occupied_bands_only
           COMMAND sh -c "rm -rf '${_occ}' && mkdir -p '${_occ}' && \
printf '{\"format\": \"rung-calibration\", \"format_version\": 1, \"probe\": {\"probe_g\": 59, \"alpha\": 0, \"beta\": 1, \"half_width\": 0.01, \"coverage\": 0.9, \"n_fit\": 3, \"n_calibration\": 9}}' > '${_occ}/cal.json' && \
$<TARGET_FILE:rung_cli> -q select ${RUNG_QE_RUNS_DIR}/si_scf_occupied/out/si.save --model ${RUNG_UNTRAINED_MODELS} --calibration '${_occ}/cal.json' \
--threshold 1.0 --launch native --outdir '${_occ}/out' --log '${_occ}/log.jsonl' > /dev/null; echo \"exit status $?\"; cat '${_occ}/log.jsonl'")
  set_tests_properties(select:cli_occupied_bands_only PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "exit status 0.*\"probe_not_run\":\"[^\"]*only the 4 occupied bands[^\"]*nscf.*\"source\":\"model\".*\"status\":\"skipped\"")
  # A YAMBO step that fails (a stub yambo on PATH exits 3): the decision is logged before the launch (launch
  # status "started") and again after it, with the launch "failed", its reason and what it had done (its log and
  # work folder); rung exits 1, and p2y ran outside the user's prefix.save.
  set(_stub ${CMAKE_BINARY_DIR}/test_select_tmp/failing_yambo)
  add_test(NAME select:cli_launch_yambo_fails
           COMMAND sh -c "rm -rf '${_stub}' && mkdir -p '${_stub}/bin' && \
printf '#!/bin/sh\\nmkdir -p SAVE\\n' > '${_stub}/bin/p2y' && \
printf '#!/bin/sh\\necho stub yambo fails >&2\\nexit 3\\n' > '${_stub}/bin/yambo' && chmod +x '${_stub}/bin/p2y' '${_stub}/bin/yambo' && \
PATH='${_stub}/bin':$PATH $<TARGET_FILE:rung_cli> -q select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save --model ${RUNG_UNTRAINED_MODELS} \
--threshold 1.0 --launch yambo --block-cutoff 2 --outdir '${_stub}/out' --log '${_stub}/log.jsonl' > /dev/null; echo \"exit status $?\"; \
cat '${_stub}/log.jsonl'; ls ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save | grep -q -E '^(SAVE|l_p2y)' || echo 'save untouched'")
  set_tests_properties(select:cli_launch_yambo_fails PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "exit status 1\n.*\"status\":\"started\".*\"decision\":\"(rpa-needed|uncertain)\".*\"log\":\"[^\"]*rung_yambo[.]log\".*\"status\":\"failed\".*\"workdir\".*save untouched")
  # The converging YAMBO launch read back (tests/select/yambo_ladder_stub.sh: stub p2y and yambo, the stub writing
  # YAMBO 5.2.4's real outputs of this Si), its 59-G spectrum for the ladder's first block and its 113-G one for
  # every later block, so the second block agrees with the first (SC 0.998 >= 0.99) and ends the ladder there; the
  # record carries the o- files, the block and SC(IPA, RPA) of YAMBO's 113-G columns (0.8749, as its eps and eps_o
  # give it) next to the evidence's.
  set(_y59 ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_dp/o-rpa_ng59_x.eps_q1_inv_rpa_dyson)
  set(_y113 ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp/o-rpa_ng113_x.eps_q1_inv_rpa_dyson)
  set(_ladder sh ${CMAKE_CURRENT_LIST_DIR}/yambo_ladder_stub.sh)
  set(_ladder_save $<TARGET_FILE:rung_cli> ${RUNG_QE_RUNS_DIR}/si_shifted_888/out/si.save ${RUNG_UNTRAINED_MODELS})
  add_test(NAME select:cli_launch_yambo_reads_back
           COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}exec \"$@\"" sh
                   ${_ladder} ${CMAKE_BINARY_DIR}/test_select_tmp/stub_yambo ${_ladder_save} ${_y59} ${_y113})
  set_tests_properties(select:cli_launch_yambo_reads_back PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       PASS_REGULAR_EXPRESSION "exit status 0.*\"converged\":true.*\"n_g\":[0-9]+.*rung_rpa_x_[0-9]+G.eps_q1_inv_rpa_dyson.*\"sc_ipa_rpa\":0[.]874")
  # A step that changes nothing never ends the ladder (rung's own --converge rule): the stub writes the same 59-G
  # spectrum for every block, so the whole ladder runs and the launch ends "not converged" at its last block.
  add_test(NAME select:cli_launch_yambo_unchanged_blocks_do_not_converge
           COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}exec \"$@\"" sh
                   ${_ladder} ${CMAKE_BINARY_DIR}/test_select_tmp/same_yambo ${_ladder_save} ${_y59} ${_y59})
  set_tests_properties(select:cli_launch_yambo_unchanged_blocks_do_not_converge PROPERTIES LABELS "cli;select"
                       FIXTURES_REQUIRED "qe_runs;untrained_models" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       PASS_REGULAR_EXPRESSION "exit status 0.*\"converged\":false")
  # A p2y that fails (exit 4) stops the script there (no yambo runs after it): the launch is "failed", the log of
  # the run names p2y's exit status, and the decision is logged.
  set(_p2 ${CMAKE_BINARY_DIR}/test_select_tmp/failing_p2y)
  add_test(NAME select:cli_launch_p2y_fails
           COMMAND sh -c "rm -rf '${_p2}' && mkdir -p '${_p2}/bin' && \
printf '#!/bin/sh\\nexit 4\\n' > '${_p2}/bin/p2y' && \
printf '#!/bin/sh\\necho yambo ran >> ${_p2}/yambo_calls\\n' > '${_p2}/bin/yambo' && chmod +x '${_p2}/bin/p2y' '${_p2}/bin/yambo' && \
PATH='${_p2}/bin':$PATH $<TARGET_FILE:rung_cli> -q select ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save --model ${RUNG_UNTRAINED_MODELS} \
--threshold 1.0 --launch yambo --block-cutoff 2 --outdir '${_p2}/out' --log '${_p2}/log.jsonl' > /dev/null; echo \"exit status $?\"; \
cat '${_p2}/log.jsonl'; grep -h '^# exit status' '${_p2}'/out/*_yambo/rung_yambo.log; test -e '${_p2}/yambo_calls' && echo 'yambo ran'")
  set_tests_properties(select:cli_launch_p2y_fails PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "exit status 1\n.*\"status\":\"failed\".*# exit status 4: p2y"
                       FAIL_REGULAR_EXPRESSION "yambo ran")
  # A JSON-lines file of three structures whose second has an element the model never saw: in --batch mode that
  # one is recorded as failed, naming it, and the third is still decided; exit status 2.
  set(_jl ${CMAKE_BINARY_DIR}/test_select_tmp/three.jsonl)
  file(WRITE ${_jl}
       "{\"id\": \"nacl-a\", \"lattice\": [[0, 2.8, 2.8], [2.8, 0, 2.8], [2.8, 2.8, 0]], \"species\": [\"Na\", \"Cl\"], \"frac_coords\": [[0, 0, 0], [0.5, 0.5, 0.5]]}\n"
       "{\"id\": \"feo\", \"lattice\": [[0, 2.2, 2.2], [2.2, 0, 2.2], [2.2, 2.2, 0]], \"species\": [\"Fe\", \"O\"], \"frac_coords\": [[0, 0, 0], [0.5, 0.5, 0.5]]}\n"
       "{\"id\": \"kcl-c\", \"lattice\": [[0, 3.1, 3.1], [3.1, 0, 3.1], [3.1, 3.1, 0]], \"species\": [\"K\", \"Cl\"], \"frac_coords\": [[0, 0, 0], [0.5, 0.5, 0.5]]}\n")
  set(_jlist ${CMAKE_BINARY_DIR}/test_select_tmp/jsonl_batch.txt)
  file(WRITE ${_jlist} "${_jl}\n")
  add_test(NAME select:cli_batch_jsonl_item_fails
           COMMAND sh -c "$<TARGET_FILE:rung_cli> -q select --batch ${_jlist} --model ${RUNG_UNTRAINED_MODELS} --log - 2>&1; \
echo \"exit status $?\"")
  set_tests_properties(select:cli_batch_jsonl_item_fails PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "untrained_models"
                       PASS_REGULAR_EXPRESSION "feo \\(input 2 of 3\\).*summary: 2 materials \\(1 failed\\).*exit status 2\n")
  # a batch shows its progress over the inputs on stderr (with an ETA while it runs), and nothing under -q
  set(_jlist2 ${CMAKE_BINARY_DIR}/test_select_tmp/jsonl_batch_twice.txt)
  file(WRITE ${_jlist2} "${_jl}\n${_jl}\n")
  add_test(NAME select:cli_batch_progress
           COMMAND sh -c "$<TARGET_FILE:rung_cli> select --batch ${_jlist2} --model ${RUNG_UNTRAINED_MODELS} --log - 2>&1 >/dev/null \
| grep 'done in'; echo \"quiet $($<TARGET_FILE:rung_cli> -q select --batch ${_jlist2} --model ${RUNG_UNTRAINED_MODELS} --log - 2>&1 \
>/dev/null | grep -c 'ETA\\|done in')\"")
  set_tests_properties(select:cli_batch_progress PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "untrained_models"
                       PASS_REGULAR_EXPRESSION "^rung select: 2/2 done in [^\n]*\nquiet 0\n$")
  # `rung -q hook`: the rung select it starts (here with a native launch) is quiet too: no progress lines on stderr
  set(_hk ${CMAKE_BINARY_DIR}/test_select_tmp/hook_quiet)
  add_test(NAME select:cli_hook_quiet
           COMMAND sh -c "rm -rf '${_hk}' && $<TARGET_FILE:rung_cli> -q hook --dry-run --launch native --threshold 1.0 \
--outdir '${_hk}' --model ${RUNG_UNTRAINED_MODELS} --log - -- pw.x -in scf.in 2>&1; echo \"exit status $?\""
           WORKING_DIRECTORY ${RUNG_QE_RUNS_DIR}/si_tiny)
  set_tests_properties(select:cli_hook_quiet PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "rpa-needed.*exit status 0" FAIL_REGULAR_EXPRESSION "ETA")
  # select's options reach the rung select the hook starts: --no-probe decides on the model alone
  add_test(NAME select:cli_hook_passes_select_options
           COMMAND $<TARGET_FILE:rung_cli> -q hook --dry-run --launch none --no-probe --json
                   --model ${RUNG_UNTRAINED_MODELS} --log - -- pw.x -in scf.in
           WORKING_DIRECTORY ${RUNG_QE_RUNS_DIR}/si_tiny)
  set_tests_properties(select:cli_hook_passes_select_options PROPERTIES LABELS "cli;select"
                       FIXTURES_REQUIRED "qe_runs;untrained_models" PASS_REGULAR_EXPRESSION "\"source\": \"model\"")
  # `rung calibrate --cv-folds`: a fold whose sc.h5 was not trained on that fold's own lists (here the shipped
  # model, trained on the paper's split, copied in) would give in-sample "cross-validation" residuals: refused
  set(_cvf ${CMAKE_BINARY_DIR}/test_select_tmp/foreign_folds)
  add_test(NAME select:cli_calibrate_refuses_foreign_fold_models
           COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}rm -rf '${_cvf}' && for k in 0 1; do mkdir -p '${_cvf}'/fold_$k && cp '${PROJECT_SOURCE_DIR}/share/models/sc.h5' '${_cvf}'/fold_$k/ && : > '${_cvf}'/fold_$k/held_out.txt; done; $<TARGET_FILE:rung_cli> -q calibrate --data '${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5' --split '${RUNG_SHARED_DIR}/structures/splits' --cv-folds '${_cvf}' -o '${_cvf}/cal.json' 2>&1; echo \"exit status $?\"")
  set_tests_properties(select:cli_calibrate_refuses_foreign_fold_models PROPERTIES LABELS "cli;select"
                       SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       PASS_REGULAR_EXPRESSION "fold_0/sc.h5: was trained on the split .*not this fold's own lists.*exit status 2")
  # `rung hook` and its command: a SIGTERM sent to rung alone reaches the command (which would otherwise run on
  # after rung ended) and its status comes back; a command that cannot be started is 127, as in a shell; a save
  # older than the command's start (here `true` writes nothing, the fixture's save is from before) is refused.
  add_test(NAME select:cli_hook_signals_and_status
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/hook_signals.sh $<TARGET_FILE:rung_cli>
           WORKING_DIRECTORY ${RUNG_QE_RUNS_DIR}/si_tiny)
  set_tests_properties(select:cli_hook_signals_and_status PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs"
                       PASS_REGULAR_EXPRESSION "hook status 143\nhup ignored\n(.*\n)?start status 127\n.*was not rewritten.*stale status 2\n"
                       FAIL_REGULAR_EXPRESSION "ORPHAN")
  # --batch as an MPI task farm on 2 ranks: a save, a structure file and a missing file (recorded as
  # failed, the others go on), then the summary from rank 0.
  if(RUNG_WITH_MPI)
    set(_list ${CMAKE_BINARY_DIR}/test_select_tmp/batch.txt)
    file(WRITE ${_list} "# rung select --batch test\n${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save\n"
                        "${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in\n/nonexistent/missing.cif\n")
    # exit status 2: a batch with a failed input; each rank appends its own records to the log as it decides
    set(_blog ${CMAKE_BINARY_DIR}/test_select_tmp/batch_log.jsonl)
    add_test(NAME select:cli_batch_mpi2
             COMMAND sh -c "rm -f '${_blog}'; ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe -np 2 $<TARGET_FILE:rung_cli> -q select \
--batch ${_list} --model ${RUNG_UNTRAINED_MODELS} --log '${_blog}'; echo \"exit status $?\"; echo \"log lines $(wc -l < '${_blog}')\"")
    set_tests_properties(select:cli_batch_mpi2 PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED "qe_runs;untrained_models"
                         PASS_REGULAR_EXPRESSION "summary: 2 materials \\(1 failed\\): 0 ipa-sufficient, .* -> 2 RPA runs.*exit status 2\nlog lines 3\n")
  endif()
endif()

# `rung info` on a text spectrum rung wrote (--yambo-text) summarises it; a text file that is no spectrum, nor a QE
# save's XML, is named as what it is not (it was read as QE's XML: "malformed XML at line ..."); exit 2.
set(_it ${CMAKE_BINARY_DIR}/test_select_tmp/info_text)
add_test(NAME info:text_spectrum
         COMMAND sh -c "rm -rf '${_it}' && mkdir -p '${_it}' && $<TARGET_FILE:rung_cli> -q spectrum \
${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save -o '${_it}/ipa.h5' --yambo-text '${_it}/o-ipa.eps' >/dev/null && \
$<TARGET_FILE:rung_cli> info '${_it}/o-ipa.eps'; echo \"exit $?\"; echo 'some notes' > '${_it}/notes.txt'; \
$<TARGET_FILE:rung_cli> info '${_it}/notes.txt' 2>&1; echo \"exit $?\"")
set_tests_properties(info:text_spectrum PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED qe_runs
                     PASS_REGULAR_EXPRESSION "o-ipa.eps: yambo text spectrum, component trace\n  [0-9]+ points, [^\n]*max Im eps [^\n]*\n.*exit 0\n[^\n]*notes.txt: not a QE save[^\n]*\nexit 2\n")

# rung validate on YAMBO 5.2.4's runs in ../shared/reference, with a plot where PLplot is built in; and a missing
# file -> exit code 2.
set(_ysp ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp)
add_test(NAME select:cli_validate
         COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}\
$<TARGET_FILE:rung_cli> validate ${_ysp}/o-ip_x.eps_q1_ip ${_ysp}/o-rpa_ng113_x.eps_q1_inv_rpa_dyson \
${_ysp}/o-rpa_ng59_x.eps_q1_inv_rpa_dyson $(${RUNG_TEST_PLOTS_OR_NOT} && echo --plot ${CMAKE_BINARY_DIR}/test_select_tmp/cli_validate.png) --json-out ${CMAKE_BINARY_DIR}/test_select_tmp/cli_validate.json && grep -q '\"rung_version\"' ${CMAKE_BINARY_DIR}/test_select_tmp/cli_validate.json && echo 'provenance recorded'")
set_tests_properties(select:cli_validate PROPERTIES LABELS "cli;select" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "o-rpa_ng113_x +0\\.86.*provenance recorded")
# PREDICTED and COMPUTED as folders (the README's form): every computed file against the prediction of its stem.
# The two stems hold different predictions, so a pairing by anything but the stem shows: the predicted
# o-rpa_ng113_x is YAMBO's IP spectrum (against the computed RPA 113 G: SC 0.86371, as select:cli_validate
# measures it), the predicted o-rpa_ng59_x the RPA 59 G itself (SC 1). Paired the other way round they would give
# 0.99840 and 0.86546.
set(_vf ${CMAKE_BINARY_DIR}/test_select_tmp/validate_folders)
add_test(NAME select:cli_validate_folders
         COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}\
rm -rf '${_vf}' && mkdir -p '${_vf}/predicted' '${_vf}/computed' && \
cp ${_ysp}/o-ip_x.eps_q1_ip '${_vf}/predicted/o-rpa_ng113_x.eps_q1_inv_rpa_dyson' && \
cp ${_ysp}/o-rpa_ng59_x.eps_q1_inv_rpa_dyson '${_vf}/predicted/' && \
cp ${_ysp}/o-rpa_ng59_x.eps_q1_inv_rpa_dyson ${_ysp}/o-rpa_ng113_x.eps_q1_inv_rpa_dyson '${_vf}/computed/' && \
$<TARGET_FILE:rung_cli> validate '${_vf}/predicted/' '${_vf}/computed/'")
set_tests_properties(select:cli_validate_folders PROPERTIES LABELS "cli;select" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "o-rpa_ng113_x +0\\.8637[^\n]*ipa / rpa[^\n]*\n[^\n]*o-rpa_ng59_x +1\\.0000")
# (exit code 2 and the file named in the one-line message)
add_test(NAME select:cli_validate_missing
         COMMAND sh -c "out=$($<TARGET_FILE:rung_cli> validate /nonexistent/a.h5 /nonexistent/b.h5 2>&1); test $? -eq 2 && echo \"$out\" | grep -q /nonexistent/a.h5 && echo named-and-exit-2")
set_tests_properties(select:cli_validate_missing PROPERTIES LABELS "cli;select"
                     PASS_REGULAR_EXPRESSION "named-and-exit-2")

# `rung cost-model fit` records what it was fitted to (each input with its fingerprint) and how (command, version;
# the program as "rung", not the path this test starts it by)
set(_cm ${CMAKE_BINARY_DIR}/test_select_tmp/cost_model.json)
add_test(NAME select:cli_cost_model_provenance
         COMMAND sh -c "mkdir -p '${CMAKE_BINARY_DIR}/test_select_tmp' && rm -f '${_cm}' && $<TARGET_FILE:rung_cli> cost-model fit \
${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5 -o '${_cm}' >/dev/null && python3 -c \"import json, sys; \
p = json.load(open(sys.argv[1]))['provenance']; i = p['inputs'][0]; \
print('inputs', i['file'].endswith('rung-dataset.h5'), len(i['fingerprint']) > 8, 'command', p['command'][0:3], \
'version', bool(p['rung_version']), bool(p['created']))\" '${_cm}'")
set_tests_properties(select:cli_cost_model_provenance PROPERTIES LABELS "cli;select"
                     PASS_REGULAR_EXPRESSION "inputs True True command \\['rung', 'cost-model', 'fit'\\] version True True")
# rung info names the quantity of a YAMBO loss-function file (not "eps"), and reads a data-file-schema.xml that an
# editor saved with a UTF-8 byte-order mark
set(_ib ${CMAKE_BINARY_DIR}/test_select_tmp/info_bom)
add_test(NAME info:text_loss_and_xml_bom
         COMMAND sh -c "${RUNG_TEST_SHARED_OR_SKIP}rm -rf '${_ib}' && mkdir -p '${_ib}' && \
$<TARGET_FILE:rung_cli> info '${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp/o-rpa_ng27_x.eel_q1_inv_rpa_dyson'; \
echo \"exit $?\"; printf '\\357\\273\\277' > '${_ib}/data-file-schema.xml' && \
cat '${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save/data-file-schema.xml' >> '${_ib}/data-file-schema.xml' && \
$<TARGET_FILE:rung_cli> info '${_ib}/data-file-schema.xml' >/dev/null; echo \"exit $?\"")
set_tests_properties(info:text_loss_and_xml_bom PROPERTIES LABELS "cli;select" FIXTURES_REQUIRED qe_runs
                     SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "max Im eel [^\n]*\n.*exit 0\nexit 0\n")
