# Run at build time (POST_BUILD of every Catch2 test program, see rung_add_tests in tests/CMakeLists.txt): lists
# the program's test cases and writes one ctest test per case, labelled with the case's kind and the program's
# area. Every case carries exactly one kind tag ([unit], [reference] or [cli], doc/developing.md); a case
# without one fails the build, so that `ctest -L unit` can be trusted to hold every fast, self-contained test.
#
# Inputs (-D): TEST_EXECUTABLE, TEST_PREFIX, TEST_AREA, TEST_FIXTURE (may be empty), TEST_WORKING_DIR, CTEST_FILE.
set(kinds unit reference cli)

# One listing of every case with its tags. Catch2 v2 prints each name on a line indented by two spaces and its
# tags, sorted, on the next line indented by six; the test programs' main (tests/support/catch_main.cpp) sets a
# console width that no name reaches, so no name is wrapped over two lines.
execute_process(COMMAND "${TEST_EXECUTABLE}" --list-tests
                OUTPUT_VARIABLE text RESULT_VARIABLE rc WORKING_DIRECTORY "${TEST_WORKING_DIR}")
if(rc LESS 0 OR rc MATCHES "[^0-9]")
  message(FATAL_ERROR "${TEST_EXECUTABLE} --list-tests failed: ${rc}\n${text}")
endif()
# Names may hold ';' nowhere (CMake would split them): refuse them here rather than run half a name.
if(text MATCHES ";")
  message(FATAL_ERROR "${TEST_EXECUTABLE}: a test case name contains ';', which ctest cannot pass back")
endif()
string(REPLACE "\n" ";" lines "${text}")
set(all "")
set(current "")
foreach(line IN LISTS lines)
  if(line MATCHES "^      (.*)$")  # the tags of the case above
    if(current STREQUAL "")
      message(FATAL_ERROR "${TEST_EXECUTABLE} --list-tests: tags without a case: ${line}")
    endif()
    set(tags "${CMAKE_MATCH_1}")
    string(MD5 key "${current}")
    foreach(kind ${kinds})
      string(FIND "${tags}" "[${kind}]" at)
      if(at GREATER -1)
        if(DEFINED kind_${key})
          message(FATAL_ERROR "${TEST_EXECUTABLE}: test case \"${current}\" has two kind tags ([${kind_${key}}] and [${kind}])")
        endif()
        set(kind_${key} ${kind})
      endif()
    endforeach()
  elseif(line MATCHES "^  ([^ ].*)$")  # a case
    set(current "${CMAKE_MATCH_1}")
    list(APPEND all "${current}")
  elseif(line MATCHES "^   ")
    message(FATAL_ERROR "${TEST_EXECUTABLE} --list-tests: a wrapped line (is the console width of "
                        "tests/support/catch_main.cpp too small?): ${line}")
  endif()
endforeach()

set(script "")
set(untagged "")
foreach(c IN LISTS all)
  string(MD5 key "${c}")
  if(NOT DEFINED kind_${key})
    list(APPEND untagged "${c}")
    continue()
  endif()
  set(kind ${kind_${key}})
  # Catch reads ',', '[' and ']' in a test spec as syntax: escape them to select exactly this case.
  set(spec "${c}")
  foreach(ch , [ ])
    string(REPLACE "${ch}" "\\${ch}" spec "${spec}")
  endforeach()
  # "RUNG-SKIP:" makes ctest report a skip whatever the exit status: the programs' main prints it only for a run
  # that passed (tests/support/skip.hpp), so a case that fails a check and then skips is reported as failed.
  set(props "LABELS [==[${kind};${TEST_AREA}]==] SKIP_REGULAR_EXPRESSION [==[RUNG-SKIP:]==]")
  # Unit cases need neither the pw.x runs nor ../shared: they do not wait for a fixture.
  if(TEST_FIXTURE AND NOT kind STREQUAL "unit")
    string(APPEND props " FIXTURES_REQUIRED [==[${TEST_FIXTURE}]==]")
  endif()
  string(APPEND script
    "add_test([==[${TEST_PREFIX}${c}]==] [==[${TEST_EXECUTABLE}]==] [==[${spec}]==] --warn NoTests)\n"
    "set_tests_properties([==[${TEST_PREFIX}${c}]==] PROPERTIES WORKING_DIRECTORY [==[${TEST_WORKING_DIR}]==] ${props})\n")
endforeach()
if(untagged)
  list(JOIN untagged "\n  " shown)
  message(FATAL_ERROR "${TEST_EXECUTABLE}: test cases without a kind tag ([unit], [reference] or [cli]):\n  ${shown}")
endif()
file(WRITE "${CTEST_FILE}" "${script}")
