# `cmake --build <dir> --target bench_python`: the Python module's overhead over the C++ call for rung.spectrum
# on the Si case (bench/python_overhead.py); not a test.
if(TARGET rung_python)
  add_executable(bench_spectrum_call EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/spectrum_call.cpp)
  target_link_libraries(bench_spectrum_call PRIVATE rung::core)
  add_custom_target(bench_python
    COMMAND ${RUNG_PYTHON_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/python_overhead.py $<TARGET_FILE:bench_spectrum_call>
            ${CMAKE_BINARY_DIR}/python ${CMAKE_BINARY_DIR}/qe_runs/si_shifted_888/out/si.save
    DEPENDS bench_spectrum_call rung_python
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    USES_TERMINAL
    COMMENT "rung.spectrum (Python) against response::compute_spectrum (C++), Si 8x8x8, RPA 27 G")
endif()
