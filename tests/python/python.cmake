# The Python module's pytest suite (tests/python) and the Python examples (examples/python), when the module is
# built and pytest is installed (Debian: python3-pytest). Each pytest run is one ctest test. In tests/python a test
# may skip only where ../shared is absent, an optional package (h5py, ase, pymatgen) is not installed or the build
# has no LibTorch; a missing fixture run or file of a present ../shared fails, and tests/python/conftest.py fails
# the run on any other skip (pytest lists every skip at the end: -rs).
if(TARGET rung_python)
  execute_process(COMMAND ${RUNG_PYTHON_EXECUTABLE} -c "import pytest, numpy" RESULT_VARIABLE _no_pytest OUTPUT_QUIET ERROR_QUIET)
  if(_no_pytest)
    message(STATUS "rung: python3-pytest or python3-numpy missing: the Python tests are not run")
  else()
    set(_py_env PYTHONPATH=${CMAKE_BINARY_DIR}/python RUNG_CLI=$<TARGET_FILE:rung_cli> RUNG_QE_RUNS_DIR=${RUNG_QE_RUNS_DIR}
        RUNG_SHARED_DIR=${RUNG_SHARED_DIR} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
    if(RUNG_WITH_TORCH)
      list(APPEND _py_env RUNG_TEST_WITH_TORCH=1)
    else()
      list(APPEND _py_env RUNG_TEST_WITH_TORCH=0)
    endif()
    add_test(NAME python:module
             COMMAND ${CMAKE_COMMAND} -E env ${_py_env} ${RUNG_PYTHON_EXECUTABLE} -m pytest -q -rs -p no:cacheprovider
                     ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(python:module PROPERTIES LABELS "api;python" FIXTURES_REQUIRED qe_runs TIMEOUT 600)
    add_test(NAME python:examples
             COMMAND ${CMAKE_COMMAND} -E env ${_py_env} PYTHONPATH=${CMAKE_BINARY_DIR}/python:${PROJECT_SOURCE_DIR}/examples/python
                     ${RUNG_PYTHON_EXECUTABLE} -m pytest -q -rs -p no:cacheprovider ${PROJECT_SOURCE_DIR}/examples/python)
    set_tests_properties(python:examples PROPERTIES LABELS "example;python" FIXTURES_REQUIRED qe_runs TIMEOUT 600)
  endif()
endif()
