# latchkey_add_plugin(<name> SOURCES <file>... [LINK <target>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds a Latchkey driver plugin: a MODULE library named <name>.so that
# exports lk_plugin_negotiate and nothing else (hidden visibility, a version
# script, static helpers kept local, no GNU unique symbols). Used in-tree and
# by driver authors through find_package(Latchkey).
#
# By itself the plugin links only the C headers (Latchkey::abi), so a project
# declared with LANGUAGES C can use this function. A C++ driver built on the
# header-only wrapper passes LINK Latchkey::plugin_sdk (latchkey_plugin_sdk
# in-tree). Every plugin target is appended to the global property
# LATCHKEY_PLUGIN_TARGETS so that checks can visit them all (tests/abi).
#
# The C++ runtime is linked into the plugin: -static-libstdc++ (libstdc++.a
# with GCC, libc++.a and libc++abi with clang -stdlib=libc++) when the plugin
# links as C++. With --exclude-libs,ALL the runtime's symbols stay local, so
# no plugin binds a C++ runtime symbol to the host's runtime or to another
# plugin's (tests/abi: abi.cxx_runtime.*). The unwinder, libgcc_s, stays
# shared on purpose: it is a C library with a stable interface, and one
# unwinder per process is what lets an exception thrown by a C++ shared
# library the plugin links (Poco, protobuf) be caught in the plugin. With
# -static-libgcc the plugin's own unwinder copy aborts on such an exception
# (tests/z2m: Poco's JSON errors in z2m_lock).
#
# Variables read: LATCHKEY_SANITIZE (in-tree option; drops -z defs, which the
# sanitizer runtimes cannot satisfy, and leaves the C++ runtime dynamic, so
# that the sanitizers' operator new/delete and their unwinding see every
# allocation: a sanitizer build's plugins do bind to the host's runtime).
get_filename_component(_latchkey_plugin_map "${CMAKE_CURRENT_LIST_DIR}/latchkey_plugin.map" ABSOLUTE)

# The version script every plugin is linked with. Also handy for builds that
# do not use CMake (see latchkey.pc's plugin_version_script).
set(LATCHKEY_PLUGIN_VERSION_SCRIPT "${_latchkey_plugin_map}")

# The link flags latchkey_add_plugin adds, as a compiler driver spells them:
# the same words as `pkg-config --libs latchkey` (all plugins) and
# `pkg-config --variable=plugin_cxx_libs latchkey` (C++ plugins), which
# tests/install compares with the link lines CMake writes.
set(LATCHKEY_PLUGIN_LINK_FLAGS
  "-Wl,--version-script=${_latchkey_plugin_map}" "-Wl,--exclude-libs,ALL" "-Wl,-z,defs")
# __cxa_pure_virtual: the runtime's archive refers to it only weakly, which
# does not pull it in; left undefined, it would bind to the host's runtime.
set(LATCHKEY_PLUGIN_CXX_LINK_FLAGS "-static-libstdc++" "-Wl,--undefined=__cxa_pure_virtual")

function(latchkey_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "latchkey_add_plugin(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "latchkey_add_plugin(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  # Latchkey::abi exists both in-tree (an ALIAS) and after find_package(Latchkey).
  if(TARGET Latchkey::abi)
    target_link_libraries(${name} PRIVATE Latchkey::abi)
  elseif(TARGET latchkey_abi)
    target_link_libraries(${name} PRIVATE latchkey_abi)
  else()
    message(FATAL_ERROR "latchkey_add_plugin(${name}): no Latchkey::abi target; call find_package(Latchkey) first")
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
  # GCC gives static locals of inline functions STB_GNU_UNIQUE binding, which
  # pins the library in memory (dlclose becomes a no-op) and merges state
  # across plugins. Clang does not emit them.
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  target_link_options(${name} PRIVATE
    "LINKER:--version-script=${_latchkey_plugin_map}"
    "LINKER:--exclude-libs,ALL")
  if(NOT LATCHKEY_SANITIZE)
    # Every symbol a plugin needs must come from a library it names.
    target_link_options(${name} PRIVATE "LINKER:-z,defs")
    # Its own copy of the C++ runtime, hidden by --exclude-libs,ALL. Only
    # where the link is C++: a C driver needs none, and clang warns about
    # the flags there.
    foreach(_latchkey_flag IN LISTS LATCHKEY_PLUGIN_CXX_LINK_FLAGS)
      string(REPLACE "," "$<COMMA>" _latchkey_flag "${_latchkey_flag}")
      target_link_options(${name} PRIVATE "$<$<LINK_LANGUAGE:CXX>:${_latchkey_flag}>")
    endforeach()
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
  set_property(GLOBAL APPEND PROPERTY LATCHKEY_PLUGIN_TARGETS ${name})
endfunction()
