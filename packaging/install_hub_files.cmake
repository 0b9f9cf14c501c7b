# Run by `cmake --install` (component hub): the files whose content or place
# depends on the prefix installed into, which is known only now (cmake
# --install --prefix, or CPack's /usr). As GNUInstallDirs does for the
# prefix /usr, configuration goes to /etc and the unit to /lib/systemd/system;
# any other prefix keeps both under itself, so an install into a private
# folder writes nothing outside it. Set by the caller (packaging/CMakeLists.txt):
#   LATCHKEY_UNIT_TEMPLATE    hal_reference/daemon/systemd/latchkeyd.service.in
#   LATCHKEY_HUB_INI_TEMPLATE packaging/hub.ini.in
#   LATCHKEY_BINDIR           the bin folder relative to the prefix
#   LATCHKEY_LIBDIR           the lib folder relative to the prefix
#   LATCHKEY_SCRATCH          a folder of the build tree for the configured copies
foreach(_var LATCHKEY_UNIT_TEMPLATE LATCHKEY_HUB_INI_TEMPLATE LATCHKEY_BINDIR LATCHKEY_LIBDIR LATCHKEY_SCRATCH)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "install_hub_files.cmake: ${_var} is not set")
  endif()
endforeach()

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_etc "/etc")
  set(_unitdir "/lib/systemd/system")
  set(_statedir "/var/lib")
else()
  set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
  set(_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  set(_statedir "${CMAKE_INSTALL_PREFIX}/var/lib")
endif()

# The values the templates name.
set(CMAKE_INSTALL_FULL_BINDIR "${CMAKE_INSTALL_PREFIX}/${LATCHKEY_BINDIR}")
set(LATCHKEY_HUB_CONFIG "${_etc}/latchkey/hub.ini")
set(LATCHKEY_HUB_DATA_DIR "${_statedir}/latchkey")
set(LATCHKEY_HUB_PLUGIN_DIR "${CMAKE_INSTALL_PREFIX}/${LATCHKEY_LIBDIR}/latchkey/plugins")

string(MD5 _key "${CMAKE_INSTALL_PREFIX}")
set(_scratch "${LATCHKEY_SCRATCH}/${_key}")
configure_file("${LATCHKEY_UNIT_TEMPLATE}" "${_scratch}/latchkeyd.service" @ONLY)
configure_file("${LATCHKEY_HUB_INI_TEMPLATE}" "${_scratch}/hub.ini" @ONLY)

# file(INSTALL) puts $DESTDIR in front and records the files in the manifest.
file(INSTALL DESTINATION "${_unitdir}" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${_scratch}/latchkeyd.service")
# A hub.ini already in place outside a staging tree (DESTDIR, as CPack uses)
# is the administrator's: kept. The packages' dpkg treats it as a conffile.
if("$ENV{DESTDIR}" STREQUAL "" AND EXISTS "${_etc}/latchkey/hub.ini")
  message(STATUS "Keeping: ${_etc}/latchkey/hub.ini (the default is ${_scratch}/hub.ini)")
else()
  file(INSTALL DESTINATION "${_etc}/latchkey" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${_scratch}/hub.ini")
endif()
