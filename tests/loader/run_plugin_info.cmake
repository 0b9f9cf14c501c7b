# Runs lk-plugin-info on one plugin and checks its exit status and output.
# -DTOOL=<lk-plugin-info> -DPLUGIN=<file> -DEXPECT_STATUS=<n> -DEXPECT=<regex;regex...>
execute_process(COMMAND "${TOOL}" "${PLUGIN}" RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL EXPECT_STATUS)
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}\n${out}${err}")
endif()
foreach(pattern IN LISTS EXPECT)
  if(NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "output does not match '${pattern}':\n${out}")
  endif()
endforeach()
