# latchkey_add_plugin(<name> SOURCES <file>... [LINK <target>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds a Latchkey driver plugin: a MODULE library named <name>.so that
# exports lk_plugin_negotiate and nothing else (hidden visibility, a version
# script, static helpers kept local, no GNU unique symbols). Used in-tree and
# by driver authors through find_package(Latchkey).
get_filename_component(_latchkey_plugin_map "${CMAKE_CURRENT_LIST_DIR}/latchkey_plugin.map" ABSOLUTE)

function(latchkey_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "latchkey_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  if(TARGET Latchkey::plugin_sdk)
    target_link_libraries(${name} PRIVATE Latchkey::plugin_sdk)
  else()
    target_link_libraries(${name} PRIVATE latchkey_plugin_sdk)
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PRIVATE ${ARG_LINK})
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_latchkey_plugin_map}")
  target_compile_options(${name} PRIVATE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-fno-gnu-unique>)
  target_link_options(${name} PRIVATE
    "LINKER:--version-script=${_latchkey_plugin_map}"
    "LINKER:--exclude-libs,ALL")
  if(NOT LATCHKEY_SANITIZE)
    # Every symbol a plugin needs must come from a library it names.
    target_link_options(${name} PRIVATE "LINKER:-z,defs")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()
