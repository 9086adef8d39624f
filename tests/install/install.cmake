# Install rung into a scratch prefix and build a consumer with find_package(rung).
set(_prefix ${CMAKE_BINARY_DIR}/install-test/prefix)
set(_cbuild ${CMAKE_BINARY_DIR}/install-test/consumer-build)
add_test(NAME install:find_package
  COMMAND ${CMAKE_COMMAND} -E env --unset=MAKEFLAGS sh -c
  "${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --prefix ${_prefix} >/dev/null && \
   ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${_cbuild} -DCMAKE_PREFIX_PATH=${_prefix} >/dev/null && \
   ${CMAKE_COMMAND} --build ${_cbuild} >/dev/null && \
   env LD_LIBRARY_PATH=${_prefix}/lib ${_cbuild}/consumer")
set_tests_properties(install:find_package PROPERTIES LABELS "package;install" PASS_REGULAR_EXPRESSION "SC\\(y, y\\) = 1.000")
