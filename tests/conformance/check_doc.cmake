# docs/certification.md must be exactly what `lk-certify --list --format markdown`
# prints, so the case list cannot drift. Regenerate with the certification_doc target.
execute_process(COMMAND "${CERTIFY}" --list --format markdown RESULT_VARIABLE status OUTPUT_VARIABLE generated)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "lk-certify --list failed (${status})")
endif()
file(READ "${DOC}" committed)
if(NOT committed STREQUAL generated)
  message(FATAL_ERROR "${DOC} differs from `lk-certify --list --format markdown`; "
                      "regenerate it: cmake --build <build> --target certification_doc")
endif()
