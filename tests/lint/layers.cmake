# Lint: the layers depend one way (tools/check_layers.py: core <- io <- {response, ml} <- dataset <- select <-
# {capi, cli}); a wrong-way include fails with its file and line.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME lint:layers COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py ${PROJECT_SOURCE_DIR}/src)
  set_tests_properties(lint:layers PROPERTIES LABELS lint PASS_REGULAR_EXPRESSION ", 0 going the wrong way")
endif()
