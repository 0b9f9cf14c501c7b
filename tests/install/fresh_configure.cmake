# Configures a standalone CMake project in a fresh binary folder, so that a
# test gives the same answer however often it runs.
#   cmake -DSOURCE_DIR=<dir> -DBINARY_DIR=<dir> -DGENERATOR=<name>
#         [-DMAKE_PROGRAM=<path>] [-DCACHE_ARGS=<-Dx=y|-Dz=w>] -P fresh_configure.cmake
# CACHE_ARGS is '|'-separated because ';' splits test arguments.
foreach(required SOURCE_DIR BINARY_DIR GENERATOR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "fresh_configure.cmake: ${required} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${BINARY_DIR}")
file(MAKE_DIRECTORY "${BINARY_DIR}")
string(REPLACE "|" ";" cache_args "${CACHE_ARGS}")
set(make_program_arg "")
if(MAKE_PROGRAM)
  set(make_program_arg "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
set(command "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}" ${make_program_arg}
            -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON ${cache_args})
list(JOIN command " " command_text)
message(STATUS "${command_text}")
execute_process(COMMAND ${command} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configuring ${SOURCE_DIR} failed (${result})")
endif()
