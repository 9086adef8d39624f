# The data-set factory (`rung dataset`, src/dataset/): k grids, symmetry, records, restart,
# failure recording, stats, and one tiny end-to-end run with pw.x (skipped without pw.x).
rung_add_tests(test_dataset LABELS "dataset" SOURCES dataset/test_dataset.cpp)

# `rung dataset pw-input` writes the factory's scf input (what tools/validate_pseudo_gaps.py runs): Si in its
# 2-atom primitive cell, 8 valence electrons -> 4 occupied + 4 empty bands.
set(_pwi ${CMAKE_BINARY_DIR}/dataset-pw-input)
add_test(NAME dataset:pw_input
  COMMAND sh -c "rm -rf ${_pwi} && $<TARGET_FILE:rung_cli> dataset pw-input --structures ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in --out-dir ${_pwi} && \
grep -c '^  Si ' ${_pwi}/scf.in/scf.in")
set_tests_properties(dataset:pw_input PROPERTIES LABELS "dataset"
  PASS_REGULAR_EXPRESSION "\"id\":\"scf.in\".*\"nbnd\":8.*\"valence_electrons\":8.0}\n3")
# a bad request names its key; exit 3
add_test(NAME dataset:run_bad_option
  COMMAND sh -c "$<TARGET_FILE:rung_cli> dataset run --structures x.jsonl --out y.h5 --window -1; echo \"exit $?\"")
set_tests_properties(dataset:run_bad_option PROPERTIES LABELS "dataset"
  PASS_REGULAR_EXPRESSION "option \"window_eV\" must be positive.*exit 3")
