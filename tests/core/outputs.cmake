# Every command checks all its output paths (core/atomic_output.hpp check_output_path; a figure's name too,
# select/report_plot.hpp check_figure_path) right after parsing, before any input is read, anything is computed,
# decided, logged or launched: a mistyped path fails at once with exit code 3 and a message naming it, and no other
# output of the command is written. Each case lists its folder afterwards ("listed" right after the exit code: none
# was written). Where the inputs named do not exist, the output's error (exit 3) instead of the input's (exit 2)
# shows that the outputs were checked first.
set(_out ${CMAKE_BINARY_DIR}/test_outputs)
set(_si_save ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save)
set(_no_folder "cannot write it, its folder [^\n]*nodir does not exist")

# --yambo-text into a missing folder: nothing computed, and the spectrum file is not written either
add_test(NAME outputs:spectrum_checks_every_output
         COMMAND sh -c "rm -rf '${_out}/spectrum' && mkdir -p '${_out}/spectrum' && cd '${_out}/spectrum' && \
$<TARGET_FILE:rung_cli> -q spectrum '${_si_save}' -o ipa.h5 --yambo-text nodir/o.eps 2>&1; echo \"exit $?\"; ls; echo listed")
set_tests_properties(outputs:spectrum_checks_every_output PROPERTIES LABELS "cli;outputs" FIXTURES_REQUIRED qe_runs
                     PASS_REGULAR_EXPRESSION "nodir/o.eps: ${_no_folder}\nexit 3\nlisted\n")

# a figure that cannot be drawn (.pdf) and a log in a missing folder: refused before the decision, the probe and the
# log; the log given with the .pdf is not created
if(RUNG_WITH_TORCH)
  add_test(NAME outputs:select_checks_figure_and_log_first
           COMMAND sh -c "rm -rf '${_out}/select' && mkdir -p '${_out}/select' && cd '${_out}/select' && \
$<TARGET_FILE:rung_cli> -q select '${_si_save}' --model ${CMAKE_BINARY_DIR}/untrained_models --log dec.jsonl --plot f.pdf 2>&1; \
echo \"exit $?\"; $<TARGET_FILE:rung_cli> -q select '${_si_save}' --model ${CMAKE_BINARY_DIR}/untrained_models \
--log nodir/dec.jsonl 2>&1; echo \"exit $?\"; ls; echo listed")
  set_tests_properties(outputs:select_checks_figure_and_log_first PROPERTIES LABELS "cli;outputs"
                       FIXTURES_REQUIRED "qe_runs;untrained_models"
                       PASS_REGULAR_EXPRESSION "must end in .png or .svg, not 'f.pdf'\nexit 3\n[^\n]*nodir/dec.jsonl: ${_no_folder}\nexit 3\nlisted\n")
  # the model file before the data set is read (and hours of training)
  add_test(NAME outputs:train_checks_model_file_first
           COMMAND sh -c "cd '${CMAKE_BINARY_DIR}' && $<TARGET_FILE:rung_cli> -q train --target sc --epochs 2 \
--data /nonexistent/d.h5 -o nodir/m.h5 2>&1; echo \"exit $?\"")
  set_tests_properties(outputs:train_checks_model_file_first PROPERTIES LABELS "cli;outputs"
                       PASS_REGULAR_EXPRESSION "nodir/m.h5: ${_no_folder}\nexit 3\n")
  add_test(NAME outputs:evaluate_and_predict_check_first
           COMMAND sh -c "cd '${CMAKE_BINARY_DIR}' && $<TARGET_FILE:rung_cli> evaluate --model /nonexistent/m.h5 \
--data /nonexistent/d.h5 --json e.json --per-material nodir/e.tsv 2>&1; echo \"exit $?\"; \
$<TARGET_FILE:rung_cli> predict /nonexistent/s.cif --model /nonexistent/m.h5 -o nodir/p.h5 2>&1; echo \"exit $?\"")
  set_tests_properties(outputs:evaluate_and_predict_check_first PROPERTIES LABELS "cli;outputs"
                       PASS_REGULAR_EXPRESSION "nodir/e.tsv: ${_no_folder}\nexit 3\n[^\n]*nodir/p.h5: ${_no_folder}\nexit 3\n")
endif()

# calibrate: its rows, and a figure it cannot draw, before the calibration file is written (and the data set read)
add_test(NAME outputs:calibrate_checks_every_output
         COMMAND sh -c "rm -rf '${_out}/calibrate' && mkdir -p '${_out}/calibrate' && cd '${_out}/calibrate' && \
$<TARGET_FILE:rung_cli> calibrate --data ${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5 --no-model -o cal.json \
--rows nodir/rows.json 2>&1; echo \"exit $?\"; \
$<TARGET_FILE:rung_cli> calibrate --data ${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5 --no-model -o cal.json \
--plot fig.pdf 2>&1; echo \"exit $?\"; ls; echo listed")
set_tests_properties(outputs:calibrate_checks_every_output PROPERTIES LABELS "cli;outputs"
                     PASS_REGULAR_EXPRESSION "nodir/rows.json: ${_no_folder}\nexit 3\n[^\n]*must end in .png or .svg, not 'fig.pdf'\nexit 3\nlisted\n")

# validate: the JSON report's folder before the figure is drawn
set(_ysp ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp)
add_test(NAME outputs:validate_checks_every_output
         COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}${RUNG_TEST_SHARED_OR_SKIP}test -d '${_ysp}' || { echo '${_ysp} is missing'; exit 1; }; \
rm -rf '${_out}/validate' && mkdir -p '${_out}/validate' && cd '${_out}/validate' && \
$<TARGET_FILE:rung_cli> validate ${_ysp}/o-ip_x.eps_q1_ip ${_ysp}/o-rpa_ng113_x.eps_q1_inv_rpa_dyson --plot v.png \
--json-out nodir/v.json 2>&1; echo \"exit $?\"; ls; echo listed")
set_tests_properties(outputs:validate_checks_every_output PROPERTIES LABELS "cli;outputs" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "nodir/v.json: ${_no_folder}\nexit 3\nlisted\n")

# dataset run: --out's folder before the work folder is made and any material is computed (the merge at the end
# takes a lock beside --out); merge, combine, stats --plot and cost-model fit before reading anything
set(_ds ${_out}-si.jsonl)
file(WRITE ${_ds} "{\"id\": \"si\", \"lattice\": [[0, 2.7155, 2.7155], [2.7155, 0, 2.7155], [2.7155, 2.7155, 0]], \"species\": [\"Si\", \"Si\"], \"frac_coords\": [[0, 0, 0], [0.25, 0.25, 0.25]]}\n")
add_test(NAME outputs:dataset_and_cost_model_check_first
         COMMAND sh -c "rm -rf '${_out}/dataset' && mkdir -p '${_out}/dataset' && cd '${_out}/dataset' && \
$<TARGET_FILE:rung_cli> -q dataset run --structures '${_ds}' --out nodir/x.h5 --work-dir W --max-atoms 1 2>&1; \
echo \"exit $?\"; mkdir -p W && $<TARGET_FILE:rung_cli> dataset merge W --out nodir/m.h5 2>&1; echo \"exit $?\"; \
$<TARGET_FILE:rung_cli> dataset combine ${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5 --out nodir/c.h5 2>&1; echo \"exit $?\"; \
$<TARGET_FILE:rung_cli> dataset stats /nonexistent/a.h5 --plot s.pdf 2>&1; echo \"exit $?\"; \
$<TARGET_FILE:rung_cli> cost-model fit /nonexistent/a.h5 -o nodir/cost.json 2>&1; echo \"exit $?\"; ls -A W; echo listed")
set_tests_properties(outputs:dataset_and_cost_model_check_first PROPERTIES LABELS "cli;outputs"
                     PASS_REGULAR_EXPRESSION "nodir/x.h5: ${_no_folder}\nexit 3\n[^\n]*nodir/m.h5: ${_no_folder}\nexit 3\n\
[^\n]*nodir/c.h5: ${_no_folder}\nexit 3\n[^\n]*not 's.pdf'\nexit 3\n[^\n]*nodir/cost.json: ${_no_folder}\nexit 3\nlisted\n")

# plot: the figure's folder before the spectra are read (PLplot or not)
add_test(NAME outputs:plot_checks_figure_first
         COMMAND sh -c "cd '${CMAKE_BINARY_DIR}' && $<TARGET_FILE:rung_cli> plot /nonexistent/a.h5 -o nodir/x.png 2>&1; \
echo \"exit $?\"")
set_tests_properties(outputs:plot_checks_figure_first PROPERTIES LABELS "cli;outputs"
                     PASS_REGULAR_EXPRESSION "nodir/x.png: ${_no_folder}\nexit 3\n")

# hook: the decision log's folder before the DFT command runs
add_test(NAME outputs:hook_checks_log_before_running
         COMMAND sh -c "cd '${CMAKE_BINARY_DIR}' && $<TARGET_FILE:rung_cli> hook --log nodir/l.jsonl \
--input ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in -- sh -c 'echo DFT-RAN' 2>&1; echo \"exit $?\"")
set_tests_properties(outputs:hook_checks_log_before_running PROPERTIES LABELS "cli;outputs"
                     PASS_REGULAR_EXPRESSION "nodir/l.jsonl: ${_no_folder}\nexit 3\n" FAIL_REGULAR_EXPRESSION "DFT-RAN")
