# The scripts of tools/ that the data ladder depends on, run end to end (only with LibTorch: they train).
if(RUNG_WITH_TORCH)
  add_test(NAME tools:data_round_smoke
           COMMAND ${CMAKE_COMMAND} -E env PLOTS=${RUNG_TEST_PLOTS_OR_NOT}
                   ${CMAKE_CURRENT_LIST_DIR}/data_round_smoke.sh $<TARGET_FILE:rung_cli> ${PROJECT_SOURCE_DIR}
                   ${RUNG_SHARED_DIR} ${CMAKE_BINARY_DIR}/test_data_round)
  set_tests_properties(tools:data_round_smoke PROPERTIES LABELS "tools;ml" SKIP_REGULAR_EXPRESSION "RUNG-SKIP:"
                       TIMEOUT 1200)
endif()
