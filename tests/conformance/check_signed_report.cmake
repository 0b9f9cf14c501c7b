# A signed report from a real run: lk-certify --make-lab-key makes the lab's
# key, --sign-key signs the JSON report, --verify-report accepts it as written
# (exit 0) and refuses it (exit 4, naming the field) after an edit, with
# another key, and truncated; a usage error is 2. Every report carries the
# provenance. Then the unit test edits every leaf of this report.
#
#   cmake -DCERTIFY=<lk-certify> -DPLUGIN=<file> -DOUT=<dir> -DSIGNING_TEST=<test binary> -P check_signed_report.cmake
foreach(var CERTIFY PLUGIN OUT SIGNING_TEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_signed_report.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

function(run expected_status)
  execute_process(COMMAND "${CERTIFY}" ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT "${status}" STREQUAL "${expected_status}")
    message(FATAL_ERROR "lk-certify ${ARGN}: exited '${status}', expected ${expected_status}\n${out}\n${err}")
  endif()
  set(out "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect_text text what)
  string(FIND "${text}" "${what}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected '${what}' in:\n${text}")
  endif()
endfunction()

run(0 --make-lab-key "${OUT}/lab")
run(2 --make-lab-key "${OUT}/lab")                       # never replaces a key
expect_text("${out}" "already exists")
run(0 --make-lab-key "${OUT}/other")

set(report "${OUT}/run/lk-certify-report.json")
execute_process(COMMAND "${CERTIFY}" --plugin "${PLUGIN}" --filter TC-ABI-1,TC-ABI-2,TC-LOCK-1
                        --operator "Ada Lovelace" --lab "Test Lab" --sign-key "${OUT}/lab.key" --out "${OUT}/run" --quiet
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status MATCHES "^[013]$")
  message(FATAL_ERROR "lk-certify --sign-key exited '${status}'\n${output}\n${errors}")
endif()
run(2 --plugin "${PLUGIN}" --sign-key "${OUT}/lab.key")   # --sign-key needs --out
run(2 --plugin "${PLUGIN}" --sign-key "${OUT}/missing.key" --out "${OUT}/never")
expect_text("${out}" "missing.key")

# Provenance in the JSON report.
file(READ "${report}" json)
foreach(field operator lab hostName os kernel cpuModel toolVersion toolRevision started ended)
  string(JSON value ERROR_VARIABLE e GET "${json}" provenance ${field})
  if(e OR value STREQUAL "")
    message(FATAL_ERROR "provenance.${field} is missing or empty ${e}")
  endif()
endforeach()
string(JSON operator GET "${json}" provenance operator)
string(JSON lab GET "${json}" provenance lab)
if(NOT operator STREQUAL "Ada Lovelace" OR NOT lab STREQUAL "Test Lab")
  message(FATAL_ERROR "provenance names operator '${operator}' and lab '${lab}'")
endif()
foreach(field started ended)
  string(JSON t GET "${json}" provenance ${field})
  if(NOT t MATCHES "^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\\.[0-9]+)?Z$")
    message(FATAL_ERROR "provenance.${field} '${t}' is not RFC 3339")
  endif()
endforeach()
string(JSON cpus GET "${json}" provenance cpuCount)
if(cpus LESS 1)
  message(FATAL_ERROR "provenance.cpuCount is ${cpus}")
endif()
string(JSON args GET "${json}" provenance commandLine)
expect_text("${args}" "--sign-key")
string(JSON plugin_sha GET "${json}" provenance plugins 0 sha256)
file(SHA256 "${PLUGIN}" actual_sha)
if(NOT plugin_sha STREQUAL actual_sha)
  message(FATAL_ERROR "provenance.plugins[0].sha256 '${plugin_sha}', the file's is ${actual_sha}")
endif()
file(READ "${OUT}/run/lk-certify-report.xml" xml)
expect_text("${xml}" "<property name=\"operator\" value=\"Ada Lovelace\"/>")
expect_text("${xml}" "<property name=\"lab\" value=\"Test Lab\"/>")
expect_text("${xml}" "<property name=\"tool_revision\"")
file(READ "${OUT}/run/lk-certify-report.html" html)
expect_text("${html}" "<dt>lab</dt><dd><code>Test Lab</code></dd>")
expect_text("${html}" "<dt>cpu_model</dt>")

# Verification.
run(0 --verify-report "${report}" --trusted-key "${OUT}/lab.pub")
expect_text("${out}" "verifies")
run(4 --verify-report "${report}" --trusted-key "${OUT}/other.pub")
expect_text("${out}" "not signed by the trusted key")
string(REPLACE "\"Test Lab\"" "\"Another Lab\"" edited "${json}")
file(WRITE "${OUT}/edited.json" "${edited}")
run(4 --verify-report "${OUT}/edited.json" --trusted-key "${OUT}/lab.pub")
expect_text("${out}" "provenance.lab was changed")
string(LENGTH "${json}" length)
math(EXPR half "${length} / 2")
string(SUBSTRING "${json}" 0 ${half} truncated)
file(WRITE "${OUT}/truncated.json" "${truncated}")
run(4 --verify-report "${OUT}/truncated.json" --trusted-key "${OUT}/lab.pub")
expect_text("${out}" "truncated")
run(2 --verify-report "${report}")                        # no trusted key
run(2 --verify-report "${OUT}/nowhere.json" --trusted-key "${OUT}/lab.pub")

# Every leaf of this real report, edited one at a time, is named.
execute_process(COMMAND ${CMAKE_COMMAND} -E env LK_CERTIFY_SIGNED_REPORT=${report} LK_CERTIFY_TRUSTED_KEY=${OUT}/lab.pub
                        "${SIGNING_TEST}" --gtest_filter=ReportSigning.RealSignedReport
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "editing the real report's leaves:\n${output}\n${errors}")
endif()
expect_text("${output}" "[       OK ] ReportSigning.RealSignedReport")
message(STATUS "signed report: verified, and refused after edits, with another key and truncated")
