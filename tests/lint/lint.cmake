# Lints, run by ctest like any test (label "lint"):
# - layers: the layers depend one way (tools/check_layers.py: core <- io <- {response, ml} <- dataset <- select
#   <- {capi, cli}); a wrong-way include fails with its file and line;
# - bindings: the Fortran module declares every C API function as rung.h does (tools/check_bindings.py);
# - format: the lines changed since the previous commit follow .clang-format (tools/check_format.sh; skipped
#   outside a git checkout).
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME lint:layers COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py ${PROJECT_SOURCE_DIR}/src)
  set_tests_properties(lint:layers PROPERTIES LABELS lint PASS_REGULAR_EXPRESSION ", 0 going the wrong way")
  add_test(NAME lint:bindings COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_bindings.py)
  set_tests_properties(lint:bindings PROPERTIES LABELS lint PASS_REGULAR_EXPRESSION ", 0 mismatches")
endif()
add_test(NAME lint:format COMMAND ${PROJECT_SOURCE_DIR}/tools/check_format.sh)
set_tests_properties(lint:format PROPERTIES LABELS lint SKIP_REGULAR_EXPRESSION "RUNG-SKIP:")
