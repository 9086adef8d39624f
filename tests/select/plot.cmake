# `rung plot` (owner: python18): spectra of several formats overlaid, every quantity; bad input and a bad figure
# name with their exit codes.
set(_ysp ${RUNG_SHARED_DIR}/reference/yambo-5.2.4/Si/yambo_sp)
set(_qe ${RUNG_SHARED_DIR}/reference/qe-si)
# Always registered: without ../shared (in a user's clone) it is reported as skipped, saying why.
add_test(NAME plot:cli_formats
         COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}${RUNG_TEST_SHARED_OR_SKIP}\
rm -f '${CMAKE_BINARY_DIR}/test_select_tmp/plot.png' && mkdir -p '${CMAKE_BINARY_DIR}/test_select_tmp' && \
$<TARGET_FILE:rung_cli> plot ${_ysp}/o-ip_x.eps_q1_ip ${_ysp}/o-rpa_ng27_x.eel_q1_inv_rpa_dyson ${_qe}/epsr_si.dat \
${_qe}/si.plot_eps.dat -q all --nolf -o '${CMAKE_BINARY_DIR}/test_select_tmp/plot.png' && \
head -c 4 '${CMAKE_BINARY_DIR}/test_select_tmp/plot.png' | od -c")
set_tests_properties(plot:cli_formats PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "wrote [^\n]*plot.png \\(4 spectra, 7 panels\\).*P   N   G")
# (without PLplot `rung plot` says so before reading anything: these three are then skipped)
add_test(NAME plot:cli_missing
         COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}out=$($<TARGET_FILE:rung_cli> plot /nonexistent/a.h5 -o x.png 2>&1); test $? -eq 2 && echo \"$out\" | grep -q /nonexistent/a.h5 && echo named-and-exit-2")
set_tests_properties(plot:cli_missing PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "RUNG-SKIP:" PASS_REGULAR_EXPRESSION "named-and-exit-2")
add_test(NAME plot:cli_bad_quantity
         COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}$<TARGET_FILE:rung_cli> plot /nonexistent/a.h5 -q absorbance -o x.png; echo exit $?")
set_tests_properties(plot:cli_bad_quantity PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "unknown quantity 'absorbance'.*exit 3\n")
add_test(NAME plot:cli_table_or_files
         COMMAND sh -c "${RUNG_TEST_PLOTS_OR_SKIP}$<TARGET_FILE:rung_cli> plot -o x.png; echo exit $?; $<TARGET_FILE:rung_cli> plot --table /nonexistent/p.tsv -o x.png; echo exit $?")
set_tests_properties(plot:cli_table_or_files PROPERTIES LABELS cli SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                     PASS_REGULAR_EXPRESSION "not both and not neither.*exit 3\n.*/nonexistent/p.tsv: does not exist.*exit 2\n")
