# The HTML report as a person sees it, checked from the DOM in headless
# Chromium at 1280 px (html_dom_harness.html loads it in a frame): the
# failures list comes first, each failure shows case, device, expected and
# came, nothing scrolls horizontally, long device URIs are shortened with
# the full text in their title. Two altered copies prove the checks bite:
# the failures moved after the case table, and a long unbreakable line.
# Without Chromium the test is skipped (tools/install-deps.sh installs it).
#
#   cmake -DCERTIFY=<lk-certify> -DPLUGIN=<faulty lock> -DOUT=<dir> -DHARNESS=<html> -P check_html_dom.cmake
foreach(var CERTIFY PLUGIN OUT HARNESS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_html_dom.cmake: ${var} is not set")
  endif()
endforeach()
find_program(CHROMIUM NAMES chromium chromium-browser google-chrome)
if(NOT CHROMIUM)
  message("[  SKIPPED ] certify_html_dom: Chromium is not installed (tools/install-deps.sh installs Debian's chromium)")
  return()
endif()
file(REMOVE_RECURSE "${OUT}")
set(long_a "faulty://lock/a?contact_sensor=front_door_contact_sensor_with_a_long_name&password_file=/var/lib/latchkey/secrets/hub.password&actuation_ms=1000")
set(long_b "faulty://lock/b_a_device_id_that_goes_on_and_on_without_any_break_point_at_all_0123456789abcdef0123456789abcdef")
execute_process(COMMAND "${CERTIFY}" --plugin "${PLUGIN}" --mode in_process --device "${long_a}" --device "${long_b}"
                        --filter TC-LOCK-1.1,TC-LOCK-3.1 --out "${OUT}/report" --quiet
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 1)
  message(FATAL_ERROR "lk-certify exited '${status}', expected 1 (the plugin fails TC-LOCK-3.1)\n${output}\n${errors}")
endif()

# Renders <dir>/lk-certify-report.html through the harness; sets `result`.
function(render dir)
  configure_file("${HARNESS}" "${dir}/harness.html" COPYONLY)
  execute_process(COMMAND "${CHROMIUM}" --headless --no-sandbox --disable-gpu --window-size=1280,900
                          --allow-file-access-from-files --user-data-dir=${OUT}/chromium-profile
                          --virtual-time-budget=5000 --dump-dom "file://${dir}/harness.html"
    RESULT_VARIABLE status OUTPUT_VARIABLE dom ERROR_VARIABLE errors TIMEOUT 120)
  if(NOT status EQUAL 0 OR NOT dom MATCHES "RESULT ([^<]*) END")
    message(FATAL_ERROR "chromium did not render ${dir}/harness.html (status '${status}')\n${errors}")
  endif()
  set(result "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

function(expect result what)
  string(FIND " ${result} " " ${what} " at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the DOM check expected '${what}', got: ${result}")
  endif()
endfunction()

render("${OUT}/report")
message(STATUS "report: ${result}")
foreach(finding failures_first=yes failures_complete=yes no_overflow=yes uri_titles=yes)
  expect("${result}" "${finding}")
endforeach()
if(result MATCHES "uris_shortened=0 ")
  message(FATAL_ERROR "no device URI was shortened: ${result}")
endif()

# The checks bite: the failures moved after the case table ...
file(READ "${OUT}/report/lk-certify-report.html" html)
string(REGEX MATCH "<section id=\"failures\">.*</section>\n<section id=\"missing\">" failures "${html}")
string(REPLACE "\n<section id=\"missing\">" "" failures "${failures}")
string(REPLACE "${failures}" "" moved "${html}")
string(REPLACE "</body>" "${failures}</body>" moved "${moved}")
file(WRITE "${OUT}/moved/lk-certify-report.html" "${moved}")
render("${OUT}/moved")
message(STATUS "failures moved last: ${result}")
expect("${result}" "failures_first=no")
# ... and a line that cannot wrap.
string(REPLACE "</body>" "<p style=\"white-space:nowrap\">${long_b}${long_b}</p></body>" wide "${html}")
file(WRITE "${OUT}/wide/lk-certify-report.html" "${wide}")
render("${OUT}/wide")
message(STATUS "unbreakable line: ${result}")
expect("${result}" "no_overflow=no")
