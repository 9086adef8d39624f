# The OPTIMATE model in LibTorch (only when rung is built with it).
if(TARGET rung_torch)
  rung_add_tests(test_ml LABELS ml SOURCES
    ml/test_architecture.cpp ml/test_model.cpp ml/test_output.cpp ml/test_training.cpp ml/test_shipped_models.cpp ml/test_predicted_optics.cpp
    LIBS rung_torch torch)
  # test_model.cpp includes LibTorch, whose glog defines a one-argument CHECK macro over Catch's: in a unity batch
  # every test file after it would compile its CHECKs as glog's (aborting instead of reporting, and refusing an
  # expression with a comma). It is compiled on its own.
  set_source_files_properties(ml/test_model.cpp PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endif()

# `rung predict FOLDER`: the structure files in it, in name order, one prediction each; other files
# (notes.txt) are passed over. A folder keeps the command line short however many files it holds.
if(RUNG_WITH_TORCH)
  set(_folder ${CMAKE_BINARY_DIR}/test_predict_folder)
  set(_si ${PROJECT_SOURCE_DIR}/tests/fixtures/si_tiny/scf.in)
  add_test(NAME predict:folder
           COMMAND sh -c "rm -rf '${_folder}' && mkdir -p '${_folder}' && cp '${_si}' '${_folder}/b.in' && \
cp '${_si}' '${_folder}/a.pwi' && echo notes > '${_folder}/notes.txt' && \
$<TARGET_FILE:rung_cli> -q predict '${_folder}' --model ${CMAKE_BINARY_DIR}/untrained_models/ipa.h5")
  set_tests_properties(predict:folder PROPERTIES LABELS "cli;ml" FIXTURES_REQUIRED untrained_models
                       PASS_REGULAR_EXPRESSION "\na\\.pwi +[A-Za-z0-9]+ +ipa: [^\n]*\nb\\.in +[A-Za-z0-9]+ +ipa: [^\n]*\n$")
  # `rung evaluate --per-material`: the table says what its numbers are of in '#' lines before its header
  set(_pm ${CMAKE_BINARY_DIR}/test_evaluate_per_material.tsv)
  add_test(NAME evaluate:per_material_provenance
           COMMAND sh -c "rm -f '${_pm}' && $<TARGET_FILE:rung_cli> evaluate --model ${CMAKE_BINARY_DIR}/untrained_models/ipa.h5 \
--data ${PROJECT_SOURCE_DIR}/share/dataset/rung-dataset.h5 --subset test --per-material '${_pm}' >/dev/null && head -n 6 '${_pm}'")
  set_tests_properties(evaluate:per_material_provenance PROPERTIES LABELS "cli;ml" FIXTURES_REQUIRED untrained_models
                       PASS_REGULAR_EXPRESSION "^# rung evaluate --per-material: rung [^\n]*, created [^\n]*\n# command: [^\n]*evaluate --model [^\n]*\n# model: [^\n]*ipa.h5 \\(fingerprint [^)]+\\)\n# data: [^\n]*rung-dataset.h5 \\(fingerprint [^)]+\\)\n# split: \\(by formula hash\\), subset: test\n# id\tformula\t")
endif()

# `rung bench ml` reads its inputs before it writes its temporary model: a missing one leaves nothing behind
if(RUNG_WITH_TORCH)
  set(_bt ${CMAKE_BINARY_DIR}/test_bench_ml_tmp)
  add_test(NAME bench:ml_missing_input_leaves_nothing
           COMMAND sh -c "rm -rf '${_bt}' && mkdir -p '${_bt}' && TMPDIR='${_bt}' $<TARGET_FILE:rung_cli> bench ml \
--jsonl /nonexistent/s.jsonl --no-python 2>&1; echo \"exit $?\"; ls -A '${_bt}'; echo listed")
  set_tests_properties(bench:ml_missing_input_leaves_nothing PROPERTIES LABELS "cli;ml"
                       PASS_REGULAR_EXPRESSION "/nonexistent/s.jsonl[^\n]*\nexit 2\nlisted\n")
endif()
