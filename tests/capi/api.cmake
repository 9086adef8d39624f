# The C API from C and the Fortran module from Fortran (owner: api). Plain programs, no Catch2:
# exit status 0 = pass; neither skips (the si_tiny run they read is one run_qe.sh always makes).
add_executable(test_capi capi/test_capi.c)
# HDF5 and dlsym for host_state, which reads the host's HDF5 handler and thread pools directly.
target_link_libraries(test_capi PRIVATE rung m HDF5::HDF5 ${CMAKE_DL_LIBS})
target_include_directories(test_capi PRIVATE ${PROJECT_SOURCE_DIR}/src)
# whether a model can be loaded (RUNG_ERR_UNAVAILABLE is the expected answer only without LibTorch)
if(RUNG_WITH_TORCH)
  target_compile_definitions(test_capi PRIVATE RUNG_TEST_WITH_TORCH=1)
else()
  target_compile_definitions(test_capi PRIVATE RUNG_TEST_WITH_TORCH=0)
endif()
add_test(NAME capi:c_basics COMMAND test_capi basics)
add_test(NAME capi:c_qe_save COMMAND test_capi save ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save ${CMAKE_BINARY_DIR}/untrained_models)
set_tests_properties(capi:c_basics capi:c_qe_save PROPERTIES LABELS "api;capi")
set_tests_properties(capi:c_qe_save PROPERTIES FIXTURES_REQUIRED "qe_runs;untrained_models")
# The library keeps its hands off the host: after a model load, a prediction and an HDF5 failure the
# host's OpenBLAS and OpenMP thread counts and its HDF5 error handler are as it set them.
if(RUNG_WITH_TORCH)
  add_test(NAME capi:c_host_state COMMAND test_capi host_state ${CMAKE_BINARY_DIR}/untrained_models)
  set_tests_properties(capi:c_host_state PROPERTIES LABELS "api;capi" FIXTURES_REQUIRED untrained_models)
endif()

add_executable(test_fortran_module capi/test_fortran.f90)
target_link_libraries(test_fortran_module PRIVATE rung_fortran)
add_test(NAME capi:fortran_module COMMAND test_fortran_module ${RUNG_QE_RUNS_DIR}/si_tiny/out/si.save)
set_tests_properties(capi:fortran_module PROPERTIES LABELS "api;capi;fortran" FIXTURES_REQUIRED qe_runs)
