# Fails when a test of the build tree carries no label: CI's passes choose
# tests by label (tools/test.sh), so an unlabelled test would silently land
# in whichever pass does not exclude it.
#   cmake -DCTEST=<ctest> -DBUILD_DIR=<build tree> -P check_labels.cmake
execute_process(COMMAND "${CTEST}" --test-dir "${BUILD_DIR}" -N -LE "."
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest -N failed (${rc}):\n${out}")
endif()
string(REGEX MATCHALL "Test +#[0-9]+: [^\n]+" unlabelled "${out}")
list(LENGTH unlabelled n)
if(n GREATER 0)
  list(JOIN unlabelled "\n  " text)
  message(FATAL_ERROR "${n} test(s) without a label (give each LABELS, see tests/README.md):\n  ${text}")
endif()
message(STATUS "every test has a label")
