# Install rung into a scratch prefix and build a consumer with find_package(rung) and the installed headers
# alone; the installed tree holds the public surface only (no internal header, no build-only flag or path), and
# each public header compiles alone (the consumer's target headers_alone: one translation unit per header).
# Then the installed `rung` runs as a user's would, without LD_LIBRARY_PATH or RUNG_SHARE_DIR: it finds librung in
# its prefix (its RPATH) and reads that prefix's share/rung, not the source tree's: `rung cost-model show` prints
# the installed share/rung/cost_model.json, whose machine is renamed in the prefix to tell the two apart.
set(_prefix ${CMAKE_BINARY_DIR}/install-test/prefix)
set(_cbuild ${CMAKE_BINARY_DIR}/install-test/consumer-build)
add_test(NAME install:find_package
  COMMAND ${CMAKE_COMMAND} -E env --unset=MAKEFLAGS sh -c
  "rm -rf '${_prefix}' '${_cbuild}' && ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --prefix '${_prefix}' >/dev/null && \
   test -f ${_prefix}/include/rung/rung.h && test -f ${_prefix}/include/rung/fortran/rung.mod && \
   test ! -e ${_prefix}/include/rung/detail/response/spectrum_driver.hpp && test ! -e ${_prefix}/include/rung/detail/ml && \
   test ! -e ${_prefix}/include/rung/capi && test ! -e ${_prefix}/include/rung/core && \
   ! grep -q -e -Wall -e ${PROJECT_SOURCE_DIR} ${_prefix}/${CMAKE_INSTALL_LIBDIR}/cmake/rung/rungTargets.cmake && \
   ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${_cbuild} -DCMAKE_PREFIX_PATH=${_prefix} >/dev/null && \
   ${CMAKE_COMMAND} --build ${_cbuild} >/dev/null && \
   env LD_LIBRARY_PATH=${_prefix}/${CMAKE_INSTALL_LIBDIR} ${_cbuild}/consumer && \
   sed -i -e 's/\"machine\": *\"[^\"]*\"/\"machine\": \"the installed share\"/' \
          ${_prefix}/${CMAKE_INSTALL_DATADIR}/rung/cost_model.json && \
   env -u LD_LIBRARY_PATH -u RUNG_SHARE_DIR ${_prefix}/${CMAKE_INSTALL_BINDIR}/rung cost-model show")
set_tests_properties(install:find_package PROPERTIES LABELS "package;install;lint"
  PASS_REGULAR_EXPRESSION "SC\\(y, y\\) = 1.000, request .*\"theory\":\"rpa\".*paper defaults yes, unknown key named yes.*fitted to [0-9]+ runs on the installed share")

# The Python module from the same kind of install: importable from <prefix>/lib/python3.X/dist-packages, finding
# the installed librung beside it (no build-tree paths).
if(TARGET rung_python)
  set(_pyprefix ${CMAKE_BINARY_DIR}/install-test/python-prefix)
  add_test(NAME install:python
    COMMAND sh -c "rm -rf '${_pyprefix}' && ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --prefix ${_pyprefix} >/dev/null && \
PYTHONPATH=$(ls -d ${_pyprefix}/lib/python3*/dist-packages) ${RUNG_PYTHON_EXECUTABLE} -c \
'import rung, os; print(rung.__file__.startswith(\"${_pyprefix}\"), rung.__version__, sorted(rung.OPTICAL_CONSTANTS))'")
  set_tests_properties(install:python PROPERTIES LABELS "package;install"
                       PASS_REGULAR_EXPRESSION "True [0-9.]+ \\['absorption_cm', 'k', 'loss', 'n', 'reflectivity'\\]")
endif()
