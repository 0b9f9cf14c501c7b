# The installed package's version and its compatibility rule: a request for
# 1.0 is met by this 1.x release, one for 2.0 or 0.1 is not.
#   cmake -DSOURCE_DIR=<version_check> -DWORK_DIR=<dir> -DPREFIX=<prefix> -P package_version.cmake
foreach(required SOURCE_DIR WORK_DIR PREFIX)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "package_version.cmake: ${required} is not set")
  endif()
endforeach()
set(problems "")
foreach(case "1.0:found" "1.0.0:found" "2.0:refused" "0.1:refused")
  string(REPLACE ":" ";" parts "${case}")
  list(GET parts 0 wanted)
  list(GET parts 1 expected)
  set(dir "${WORK_DIR}/${wanted}")
  file(REMOVE_RECURSE "${dir}")
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${dir}" -DCMAKE_PREFIX_PATH=${PREFIX}
            -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DLATCHKEY_WANTED=${wanted}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(result EQUAL 0)
    set(got found)
  else()
    set(got refused)
  endif()
  message(STATUS "find_package(Latchkey ${wanted}): ${got}")
  if(NOT got STREQUAL expected)
    string(APPEND problems "find_package(Latchkey ${wanted}) was ${got}, expected ${expected}:\n${output}\n")
  elseif(got STREQUAL "refused" AND NOT output MATCHES "version")
    # Refused for the version, not for anything else.
    string(APPEND problems "find_package(Latchkey ${wanted}) was refused, but not for its version:\n${output}\n")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "${problems}")
endif()
message(STATUS "the package version and its compatibility rule hold")
