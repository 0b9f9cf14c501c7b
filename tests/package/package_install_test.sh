#!/bin/sh
# The Debian packages on this machine (docs/packaging.md): builds them with
# CPack from a build tree into a temporary folder; installs lk-certify and
# latchkey-runtime alone and certifies the packaged sim lock with them (a
# lab's machine: no part of the hub); installs them all with dpkg -i, checks
# what they put where, runs the installed latchkeyd --check
# as the service user, verifies the unit, runs lk-certify --help, then purges
# them and checks that nothing is left. Whatever happens, the machine is left
# as it was found (trap): every package this test installed is purged.
#   package_install_test.sh <cpack> <build dir> <work dir> <lib dir> <embed source> [<cxx flags>]
# <lib dir> is the build's CMAKE_INSTALL_LIBDIR (relative to /usr); <embed
# source> is examples/host_embed where latchkey-sdk installed it, built against the installed
# latchkey-sdk (with <cxx flags>, for a sanitizer build's libraries).
# Exit 0 passed, 77 skipped (not root, or no dpkg), anything else failed.
set -eu

cpack=$1
build=$2
work=$3
lib=/usr/$4
embed_source=$5
embed_flags=${6:-}
packages="latchkeyd lk-certify lk-camera-agent lk-witness latchkey-sdk latchkey-runtime"

say() { printf 'package test: %s\n' "$*"; }
fail() { printf 'package test: FAILED: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: installing packages with dpkg -i needs root"
  exit 77
fi
for tool in dpkg dpkg-deb dpkg-query; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "SKIPPED: $tool is not installed (not a Debian system)"
    exit 77
  fi
done

# The machine must not hold what the test installs and purges: purging would
# take away someone else's hub, user or data.
is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ] ||
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'config-files\|half'
}
for p in $packages; do
  if is_installed "$p"; then
    fail "the package $p is already on this machine; this test installs and purges its own (dpkg --purge $p first)"
  fi
done
if getent passwd latchkey >/dev/null; then fail "a user latchkey already exists; the package creates and its purge removes it"; fi
if getent group latchkey >/dev/null; then fail "a group latchkey already exists; the package creates and its purge removes it"; fi
for path in /etc/latchkey /var/lib/latchkey /lib/systemd/system/latchkeyd.service; do
  if [ -e "$path" ]; then fail "$path already exists; the package would take it over and its purge remove it"; fi
done

installed=""
scratch=""
cleanup() {
  status=$?
  [ -z "$scratch" ] || rm -rf "$scratch"
  if [ -n "$installed" ]; then
    # shellcheck disable=SC2086
    dpkg --purge $installed >"$work/purge-on-exit.log" 2>&1 || {
      say "purging on exit failed:"
      cat "$work/purge-on-exit.log" >&2
      status=1
    }
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

rm -rf "$work"
mkdir -p "$work"

# ---- Build the packages --------------------------------------------------------
say "building the packages (cpack) into $work/debs"
if ! "$cpack" --config "$build/CPackConfig.cmake" -B "$work/debs" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack failed"
fi
debs=""
deb_of() { ls "$work/debs/${1}_"*.deb 2>/dev/null | head -n 1; }
for p in $packages; do
  deb=$(deb_of "$p")
  [ -n "$deb" ] || { ls -l "$work/debs" >&2; fail "cpack made no package $p"; }
  debs="$debs $deb"
  say "$(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
done

# ---- A lab's machine: lk-certify and what it depends on, nothing of the hub ----
installed="lk-certify latchkey-runtime"
if ! dpkg -i "$(deb_of latchkey-runtime)" "$(deb_of lk-certify)" >"$work/dpkg-certify.log" 2>&1; then
  cat "$work/dpkg-certify.log" >&2
  fail "dpkg -i of lk-certify and latchkey-runtime alone failed"
fi
[ ! -e /usr/bin/latchkeyd ] || fail "latchkeyd is installed with lk-certify alone"
# Isolated mode (the default) runs the plugin in lk-plugin-host; TC-GATE-1.1
# pairs it with the reference plugins. Both must come from the packages, not
# from this build tree: the report's provenance names what ran.
if ! (cd "$work" && /usr/bin/lk-certify --plugin $lib/latchkey/plugins/lk_sim_lock.so --device sim://lock/a \
        --filter TC-LOCK-1.1,TC-GATE-1.1 --out "$work/certify" --quiet) >"$work/certify.log" 2>&1; then
  cat "$work/certify.log" >&2
  fail "the installed lk-certify, with latchkey-runtime alone, did not pass the sim lock"
fi
report="$work/certify/lk-certify-report.json"
for ran in "/usr/bin/lk-plugin-host" "$lib/latchkey/plugins/lk_sim_camera.so" "$lib/latchkey/plugins/lk_ref_authz.so"; do
  grep -q "\"path\": *\"$ran\"" "$report" || {
    grep -A2 '"role"' "$report" >&2
    fail "the certification did not run the packaged $ran (its provenance names another)"
  }
done
say "lk-certify with latchkey-runtime alone: PASSED, with the packaged plugin host and reference plugins"

# ---- Install -------------------------------------------------------------------
# One dpkg -i for all: their Depends must all be met by the machine
# (tools/install-deps.sh) and each other; apt-get -f is not available offline.
installed=$packages
# shellcheck disable=SC2086
if ! dpkg -i $debs >"$work/dpkg-install.log" 2>&1; then
  cat "$work/dpkg-install.log" >&2
  fail "dpkg -i failed"
fi
for p in $packages; do
  is_installed "$p" || fail "$p is not installed after dpkg -i"
done
say "installed: $packages"

# ---- What landed where ---------------------------------------------------------
for f in /usr/bin/latchkeyd /usr/bin/lk-plugin-host /usr/bin/lkctl /usr/bin/lk-audit-verify \
         /usr/bin/lk-device-tour /usr/bin/lk-certify /usr/bin/lk-camera-agent \
         /usr/bin/lk-plugin-info /usr/bin/lk-witness \
         $lib/latchkey/plugins/lk_sim_lock.so $lib/latchkey/plugins/lk_sim_camera.so \
         $lib/latchkey/plugins/lk_ref_authz.so $lib/latchkey/latchkey_broker_guard.so \
         /lib/systemd/system/latchkeyd.service /etc/latchkey/hub.ini \
         $lib/liblatchkey_proto.so.1 $lib/liblatchkey_proto.so \
         /usr/include/latchkey/latchkey.h /usr/include/latchkey/host/plugin.hpp \
         /usr/include/latchkey/crypto/attestations.hpp /usr/include/latchkey/attestation.pb.h \
         $lib/liblatchkey_host.a $lib/liblatchkey_crypto.a $lib/liblatchkey_attest.a \
         $lib/cmake/Latchkey/LatchkeyConfig.cmake $lib/pkgconfig/latchkey.pc \
         /usr/share/doc/latchkey/abi.md /usr/share/latchkey/proto/latchkey/attestation.proto; do
  [ -e "$f" ] || fail "$f is missing after installing the packages"
done
# Each file belongs to the package that should hold it.
owner() { dpkg -S "$1" 2>/dev/null | cut -d: -f1; }
[ "$(owner /usr/bin/latchkeyd)" = latchkeyd ] || fail "/usr/bin/latchkeyd is not latchkeyd's"
[ "$(owner $lib/liblatchkey_proto.so.1)" = latchkey-runtime ] || fail "liblatchkey_proto.so.1 is not latchkey-runtime's"
[ "$(owner $lib/liblatchkey_proto.so)" = latchkey-sdk ] || fail "the link liblatchkey_proto.so is not latchkey-sdk's"
[ "$(owner /usr/bin/lk-certify)" = lk-certify ] || fail "/usr/bin/lk-certify is not lk-certify's"
[ "$(owner /usr/bin/lk-plugin-host)" = latchkey-runtime ] || fail "/usr/bin/lk-plugin-host is not latchkey-runtime's"
[ "$(owner $lib/latchkey/plugins/lk_sim_lock.so)" = latchkey-runtime ] || fail "the reference plugins are not latchkey-runtime's"
[ "$(owner /usr/bin/lk-camera-agent)" = lk-camera-agent ] || fail "/usr/bin/lk-camera-agent is not lk-camera-agent's"
[ "$(owner /usr/bin/lk-witness)" = lk-witness ] || fail "/usr/bin/lk-witness is not lk-witness's"
# The installed programs find their libraries (RPATH $ORIGIN/../lib, or /usr/lib).
for b in /usr/bin/latchkeyd /usr/bin/lk-plugin-host /usr/bin/lkctl /usr/bin/lk-certify /usr/bin/lk-camera-agent \
         /usr/bin/lk-plugin-info /usr/bin/lk-witness $lib/latchkey/plugins/lk_sim_camera.so; do
  if ldd "$b" | grep -q 'not found'; then
    ldd "$b" >&2
    fail "$b needs a library that is not found"
  fi
done

# ---- The service user, its data directory, the conffile ------------------------
getent passwd latchkey >/dev/null || fail "the package made no user latchkey"
getent group latchkey >/dev/null || fail "the package made no group latchkey"
[ "$(stat -c '%U:%G %a' /var/lib/latchkey)" = "latchkey:latchkey 700" ] ||
  fail "/var/lib/latchkey is $(stat -c '%U:%G %a' /var/lib/latchkey), expected latchkey:latchkey 700"
conffiles=$(dpkg-query -W -f='${Conffiles}' latchkeyd)
echo "$conffiles" | grep -q '^ */etc/latchkey/hub.ini ' ||
  fail "/etc/latchkey/hub.ini is not a conffile of latchkeyd (Conffiles: $conffiles)"
say "user latchkey, /var/lib/latchkey 0700, conffile /etc/latchkey/hub.ini"

# ---- The installed hub checks its own configuration ----------------------------
# As the service user, as systemd runs it: the data directory must be its own.
if ! out=$(runuser -u latchkey -- /usr/bin/latchkeyd --check --config /etc/latchkey/hub.ini 2>&1); then
  printf '%s\n' "$out" >&2
  fail "latchkeyd --check --config /etc/latchkey/hub.ini failed"
fi
printf '%s\n' "$out"
say "latchkeyd --check of the default hub.ini: exit 0"
# --check really looks: a configuration naming a missing plugin fails it.
# (In a folder of its own the service user can read.)
scratch=$(mktemp -d)
chmod 0755 "$scratch"
broken="$scratch/broken.ini"
sed 's/^file = lk_sim_lock.so$/file = lk_no_such_lock.so/' /etc/latchkey/hub.ini >"$broken"
chmod 0644 "$broken"
if runuser -u latchkey -- /usr/bin/latchkeyd --check --config "$broken" >"$work/broken.log" 2>&1; then
  fail "latchkeyd --check passed a configuration naming a missing plugin"
fi
grep -q lk_no_such_lock "$work/broken.log" || { cat "$work/broken.log" >&2; fail "--check did not name the missing plugin"; }

# ---- The unit ------------------------------------------------------------------
grep -q '^ExecStart=/usr/bin/latchkeyd --config /etc/latchkey/hub.ini$' /lib/systemd/system/latchkeyd.service ||
  fail "the installed unit does not run /usr/bin/latchkeyd --config /etc/latchkey/hub.ini"
if command -v systemd-analyze >/dev/null 2>&1; then
  verify=$(systemd-analyze verify --man=no /lib/systemd/system/latchkeyd.service 2>&1 || true)
  if printf '%s\n' "$verify" | grep -q 'latchkeyd.service'; then
    printf '%s\n' "$verify" >&2
    fail "systemd-analyze verify complains about the installed unit"
  fi
  say "systemd-analyze verify /lib/systemd/system/latchkeyd.service: no complaint"
else
  say "systemd-analyze is not installed: the unit is not verified"
fi

# ---- The other packages' programs run --------------------------------------------
/usr/bin/lk-certify --help >"$work/certify-help.log" 2>&1 || { cat "$work/certify-help.log" >&2; fail "lk-certify --help failed"; }
grep -qi 'usage' "$work/certify-help.log" || fail "lk-certify --help printed no usage"
/usr/bin/lk-plugin-info $lib/latchkey/plugins/lk_sim_lock.so >"$work/plugin-info.log" 2>&1 ||
  { cat "$work/plugin-info.log" >&2; fail "the installed lk-plugin-info refused the installed lk_sim_lock.so"; }
[ "$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion latchkey)" = "1.0.0" ] ||
  fail "pkg-config --modversion latchkey is not 1.0.0"
say "lk-certify --help, lk-plugin-info, pkg-config latchkey 1.0.0"

# ---- A hub maker's program against the installed latchkey-sdk -----------------
# find_package(Latchkey 1.0 COMPONENTS host crypto) from /usr, and the
# program loads the installed reference lock.
if ! cmake -S "$embed_source" -B "$work/embed" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
     -DCMAKE_CXX_FLAGS="$embed_flags" -DCMAKE_EXE_LINKER_FLAGS="$embed_flags" >"$work/embed.log" 2>&1 ||
   ! cmake --build "$work/embed" >>"$work/embed.log" 2>&1; then
  cat "$work/embed.log" >&2
  fail "a program against the installed latchkey-sdk did not configure or build"
fi
grep -q "^Latchkey_DIR:PATH=$lib/cmake/Latchkey$" "$work/embed/CMakeCache.txt" ||
  fail "the program found Latchkey elsewhere than $lib/cmake/Latchkey: $(grep '^Latchkey_DIR' "$work/embed/CMakeCache.txt")"
if ! ASAN_OPTIONS=detect_leaks=0 "$work/embed/embed_host" $lib/latchkey/plugins/lk_sim_lock.so \
     'sim://lock/front?actuation_ms=20' >"$work/embed-run.log" 2>&1; then
  cat "$work/embed-run.log" >&2
  fail "the program against the installed SDK failed"
fi
say "a program against the installed latchkey-sdk loaded $lib/latchkey/plugins/lk_sim_lock.so and drove it"

# ---- Purge: nothing may be left -------------------------------------------------
# shellcheck disable=SC2086
if ! dpkg --purge $packages >"$work/dpkg-purge.log" 2>&1; then
  cat "$work/dpkg-purge.log" >&2
  fail "dpkg --purge failed"
fi
installed=""
for p in $packages; do
  if is_installed "$p"; then fail "$p is still installed after dpkg --purge"; fi
done
for path in /usr/bin/latchkeyd /usr/bin/lk-certify /usr/bin/lk-camera-agent /usr/bin/lk-witness $lib/latchkey \
            /usr/include/latchkey $lib/cmake/Latchkey $lib/liblatchkey_proto.so.1 \
            /usr/share/doc/latchkey /usr/share/latchkey \
            /etc/latchkey /var/lib/latchkey /lib/systemd/system/latchkeyd.service; do
  if [ -e "$path" ]; then fail "$path is left after dpkg --purge"; fi
done
if getent passwd latchkey >/dev/null; then fail "the user latchkey is left after dpkg --purge"; fi
if getent group latchkey >/dev/null; then fail "the group latchkey is left after dpkg --purge"; fi
say "purged: no file, user or group left"
say "the packages install, check and purge cleanly"
