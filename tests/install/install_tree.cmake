# Installs a build tree into a fresh prefix and checks the SDK's layout.
#   cmake -DBUILD_DIR=<build> -DPREFIX=<dir> -DLIBDIR=<lib dir> -DINCLUDEDIR=<include dir>
#         -DDATADIR=<data dir> -DBINDIR=<bin dir> -P install_tree.cmake
foreach(required BUILD_DIR PREFIX LIBDIR INCLUDEDIR DATADIR BINDIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "install_tree.cmake: ${required} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${result}):\n${output}")
endif()

# What a driver author relies on. Missing files fail here, by name, rather
# than as a puzzling error in a later configure.
set(expected
  "${INCLUDEDIR}/latchkey/latchkey.h"
  "${INCLUDEDIR}/latchkey/lk_base.h"
  "${INCLUDEDIR}/latchkey/lk_host.h"
  "${INCLUDEDIR}/latchkey/lk_plugin.h"
  "${INCLUDEDIR}/latchkey/lk_lock.h"
  "${INCLUDEDIR}/latchkey/lk_camera.h"
  "${INCLUDEDIR}/latchkey/lk_authz.h"
  "${INCLUDEDIR}/latchkey/lk_test_control.h"
  "${INCLUDEDIR}/latchkey/cpp/plugin.hpp"
  "${LIBDIR}/cmake/Latchkey/LatchkeyConfig.cmake"
  "${LIBDIR}/cmake/Latchkey/LatchkeyConfigVersion.cmake"
  "${LIBDIR}/cmake/Latchkey/LatchkeyTargets.cmake"
  "${LIBDIR}/cmake/Latchkey/LatchkeyPlugin.cmake"
  "${LIBDIR}/cmake/Latchkey/latchkey_plugin.map"
  "${LIBDIR}/pkgconfig/latchkey.pc"
  # The contract in full (docs/abi.md): the public schemas, the docs and the
  # examples the guide builds.
  "${DATADIR}/latchkey/proto/latchkey/attestation.proto"
  "${DATADIR}/latchkey/proto/latchkey/grant.proto"
  "${DATADIR}/latchkey/proto/latchkey/unlock.proto"
  "${DATADIR}/latchkey/proto/latchkey/camera_link.proto"
  "${DATADIR}/latchkey/proto/latchkey/fleet.proto"
  "${DATADIR}/doc/latchkey/abi.md"
  "${DATADIR}/doc/latchkey/plugin-guide.md"
  "${DATADIR}/doc/latchkey/rules.md"
  "${DATADIR}/doc/latchkey/certification.md"
  "${DATADIR}/latchkey/examples/c_lock_driver/example_lock.c"
  "${DATADIR}/latchkey/examples/c_lock_driver/CMakeLists.txt"
  "${DATADIR}/latchkey/examples/cpp_lock_driver/acme_lock.cpp"
  "${DATADIR}/latchkey/examples/cpp_lock_driver/CMakeLists.txt"
  "${BINDIR}/lk-plugin-info"
  # The hub side a hub maker embeds (find_package(Latchkey COMPONENTS host crypto)).
  "${INCLUDEDIR}/latchkey/host/plugin.hpp"
  "${INCLUDEDIR}/latchkey/host/devices.hpp"
  "${INCLUDEDIR}/latchkey/host/device_api.hpp"
  "${INCLUDEDIR}/latchkey/crypto/crypto.hpp"
  "${INCLUDEDIR}/latchkey/crypto/grants.hpp"
  "${INCLUDEDIR}/latchkey/crypto/attestations.hpp"
  "${INCLUDEDIR}/latchkey/attestation.pb.h"
  "${INCLUDEDIR}/latchkey/grant.pb.h"
  "${INCLUDEDIR}/latchkey/unlock.pb.h"
  "${INCLUDEDIR}/latchkey/camera_link.pb.h"
  "${LIBDIR}/liblatchkey_host.a"
  "${LIBDIR}/liblatchkey_crypto.a"
  "${LIBDIR}/liblatchkey_attest.a"
  "${LIBDIR}/liblatchkey_proto.so"
  "${LIBDIR}/cmake/Latchkey/LatchkeyHostTargets.cmake"
  "${LIBDIR}/cmake/Latchkey/LatchkeyCryptoTargets.cmake"
  "${LIBDIR}/cmake/Latchkey/LatchkeyAttestTargets.cmake"
  # The hub: its unit and default configuration, written for this prefix.
  "${BINDIR}/latchkeyd"
  "${BINDIR}/lk-plugin-host"
  "${LIBDIR}/latchkey/plugins/lk_sim_lock.so"
  "etc/latchkey/hub.ini"
  "lib/systemd/system/latchkeyd.service")
set(missing "")
foreach(file IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${file}")
    list(APPEND missing "${file}")
  endif()
endforeach()
if(missing)
  list(JOIN missing "\n  " missing_text)
  message(FATAL_ERROR "installed tree ${PREFIX} lacks:\n  ${missing_text}")
endif()
# The hub's private protocols (the plugin-host protocol, lk-certify's report)
# are no part of the SDK: neither their schemas nor their generated code may
# be installed, in liblatchkey_proto or anywhere else.
# (docs/certification.md, the public list of certification cases, is a doc.)
file(GLOB_RECURSE private_files "${PREFIX}/*plugin_host*" "${PREFIX}/*certification*")
list(FILTER private_files EXCLUDE REGEX "/doc/latchkey/[^/]+\\.md$")
# Every proto installed is a public one: the SDK's folder holds no other.
file(GLOB installed_protos RELATIVE "${PREFIX}/${DATADIR}/latchkey/proto/latchkey" "${PREFIX}/${DATADIR}/latchkey/proto/latchkey/*")
list(SORT installed_protos)
if(NOT installed_protos STREQUAL "attestation.proto;camera_link.proto;fleet.proto;grant.proto;unlock.proto")
  message(FATAL_ERROR "installed tree ${PREFIX} has other schemas than the SDK's five public ones: ${installed_protos}")
endif()
if(private_files)
  list(JOIN private_files "\n  " private_text)
  message(FATAL_ERROR "installed tree ${PREFIX} holds hub-private protocol files:\n  ${private_text}")
endif()
file(GLOB proto_libraries "${PREFIX}/${LIBDIR}/liblatchkey_proto.so*")
if(NOT proto_libraries)
  message(FATAL_ERROR "installed tree ${PREFIX} lacks ${LIBDIR}/liblatchkey_proto.so")
endif()
foreach(library IN LISTS proto_libraries)
  file(STRINGS "${library}" private_protos REGEX "latchkey/(plugin_host|certification)\\.proto")
  if(private_protos)
    message(FATAL_ERROR "${library} carries the generated code of a hub-private proto: ${private_protos}")
  endif()
endforeach()
# Nothing of the hub's configuration may name a path outside the prefix it
# was installed into (the unit's ExecStart and --config, hub.ini's folders).
file(READ "${PREFIX}/lib/systemd/system/latchkeyd.service" unit)
if(NOT unit MATCHES "ExecStart=${PREFIX}/${BINDIR}/latchkeyd --config ${PREFIX}/etc/latchkey/hub.ini")
  message(FATAL_ERROR "the installed unit does not run ${PREFIX}/${BINDIR}/latchkeyd with ${PREFIX}/etc/latchkey/hub.ini:\n${unit}")
endif()
file(STRINGS "${PREFIX}/etc/latchkey/hub.ini" ini_paths REGEX "^(data_dir|plugin_dir) = ")
foreach(line IN LISTS ini_paths)
  if(NOT line MATCHES " = ${PREFIX}/")
    message(FATAL_ERROR "the installed hub.ini names a path outside ${PREFIX}: ${line}")
  endif()
endforeach()
message(STATUS "installed ${BUILD_DIR} into ${PREFIX}")
