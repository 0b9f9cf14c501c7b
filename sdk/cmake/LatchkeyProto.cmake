# latchkey_proto_library(<target> <SHARED|STATIC> <root>): a library of the
# C++ code protoc generates from every <root>/latchkey/*.proto. protobuf_generate
# names its outputs by their path relative to <root>, so <root>/latchkey/x.proto
# becomes latchkey/x.pb.h in the calling folder's build directory, which the
# target exports as an include directory ("latchkey/x.pb.h").
#
# The same generated code in two images that meet in one process aborts at
# load (protobuf registers each .proto file once per process). So a proto
# library is either SHARED (the SDK's liblatchkey_proto, loaded by plugins and
# programs alike) or STATIC and linked only into executables, never into a
# shared library or a plugin. Build-tree only: not installed with the SDK.
function(latchkey_proto_library target kind root)
  file(GLOB _protos CONFIGURE_DEPENDS "${root}/latchkey/*.proto")
  add_library(${target} ${kind})
  target_sources(${target} PRIVATE ${_protos})
  protobuf_generate(TARGET ${target} LANGUAGE cpp
    IMPORT_DIRS "${root}"
    PROTOC_OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${CMAKE_CURRENT_BINARY_DIR}>")
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
endfunction()
