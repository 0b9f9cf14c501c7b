# latchkey_add_roundtrip_test(<test name> <plugin file> <device URI> <fixture> [GTEST_FILTER <filter>])
#
# Runs tests/plugins' lock_roundtrip_test against a plugin built outside the
# main build (an installed-SDK or cross-toolchain build), once the fixture
# that builds it has run. The tests are added at the end of the top-level
# configure, when lock_roundtrip_test is known wherever it is defined; without
# it they are reported as skipped rather than silently missing. GTEST_FILTER
# leaves out cases that do not apply to a driver.
function(latchkey_add_roundtrip_test name plugin uri fixture)
  cmake_parse_arguments(ARG "" "GTEST_FILTER" "" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY LATCHKEY_ROUNDTRIP_TESTS "${name}|${plugin}|${uri}|${fixture}|${ARG_GTEST_FILTER}")
  get_property(scheduled GLOBAL PROPERTY LATCHKEY_ROUNDTRIP_TESTS_SCHEDULED)
  if(NOT scheduled)
    set_property(GLOBAL PROPERTY LATCHKEY_ROUNDTRIP_TESTS_SCHEDULED TRUE)
    cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL _latchkey_add_roundtrip_tests)
  endif()
endfunction()

function(_latchkey_add_roundtrip_tests)
  get_property(entries GLOBAL PROPERTY LATCHKEY_ROUNDTRIP_TESTS)
  foreach(entry IN LISTS entries)
    string(REPLACE "|" ";" fields "${entry}")
    list(GET fields 0 name)
    list(GET fields 1 plugin)
    list(GET fields 2 uri)
    list(GET fields 3 fixture)
    list(GET fields 4 filter)
    set(filter_arg "")
    if(filter)
      set(filter_arg "--gtest_filter=${filter}")
    endif()
    if(TARGET lock_roundtrip_test)
      add_test(NAME ${name} COMMAND lock_roundtrip_test ${filter_arg})
      set_tests_properties(${name} PROPERTIES
        ENVIRONMENT "LATCHKEY_LOCK_PLUGIN=${plugin};LATCHKEY_LOCK_URI=${uri}"
        FIXTURES_REQUIRED ${fixture})
    else()
      add_test(NAME ${name} COMMAND sh -c "echo 'lock_roundtrip_test is not part of this build'; exit 77")
      set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_REQUIRED ${fixture})
    endif()
    # Added in the top-level folder: the label of the folder that asked (abi.*, install.*).
    string(REGEX MATCH "^[a-z]+" label "${name}")
    set_tests_properties(${name} PROPERTIES LABELS "${label}")
  endforeach()
endfunction()
