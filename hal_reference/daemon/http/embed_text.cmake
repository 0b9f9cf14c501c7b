# Turns a text file into a C++ header holding it as a raw string literal.
# cmake -DINPUT=<file> -DOUTPUT=<header> -DNAME=<constant> -P embed_text.cmake
file(READ "${INPUT}" content)
set(delimiter "lk_embedded_text")
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter ${delimiter}")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} at build time; edit that file instead.\n"
  "#pragma once\n#include <string_view>\n"
  "namespace latchkey::hub::http {\n"
  "inline constexpr std::string_view ${NAME} = R\"${delimiter}(${content})${delimiter}\";\n"
  "}  // namespace latchkey::hub::http\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
