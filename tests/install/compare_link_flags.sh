#!/bin/sh
# Compares the two ways of building a plugin against an installed SDK: the
# link flags latchkey_add_plugin() put on a plugin's link line (read back
# from a Ninja build with `ninja -t commands`) and those pkg-config gives
# (`--libs latchkey`, plus `--variable=plugin_cxx_libs` for C++). Every
# pkg-config flag must be on the CMake line, and the CMake line may carry no
# other linker flag (-Wl,..., -static-..., -z).
# usage: compare_link_flags.sh <pkg-config> <pkgconfig dir> <ninja> <build dir> <target> c|cxx
set -eu
if [ $# -ne 6 ]; then
  echo "usage: $0 <pkg-config> <pkgconfig dir> <ninja> <build dir> <target> c|cxx" >&2
  exit 2
fi
pkg_config="$1"
PKG_CONFIG_PATH="$2"
export PKG_CONFIG_PATH
ninja="$3"
build="$4"
target="$5"
language="$6"

cmake_line=$("$ninja" -C "$build" -t commands "$target" | tail -n 1)
[ -n "$cmake_line" ] || { echo "FAIL: no link command for $target in $build" >&2; exit 2; }
pc_flags=$("$pkg_config" --libs latchkey)
if [ "$language" = cxx ]; then
  pc_flags="$pc_flags $("$pkg_config" --variable=plugin_cxx_libs latchkey)"
fi
echo "CMake link line: $cmake_line"
echo "pkg-config:      $pc_flags"

# One flag a line; the version script's path made canonical on both sides.
normalise() {
  for word in $1; do
    case "$word" in
      -Wl,--version-script=*) echo "-Wl,--version-script=$(realpath "${word#-Wl,--version-script=}")" ;;
      *) echo "$word" ;;
    esac
  done | sort -u
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
normalise "$pc_flags" > "$tmp/pc"
normalise "$cmake_line" > "$tmp/cmake_all"
grep -E '^(-Wl,|-static|-z$)' "$tmp/cmake_all" > "$tmp/cmake" || true

status=0
missing=$(comm -23 "$tmp/pc" "$tmp/cmake_all")
if [ -n "$missing" ]; then
  echo "FAIL: pkg-config gives flags the CMake route does not use:"
  printf '  %s\n' $missing
  status=1
fi
extra=$(comm -13 "$tmp/pc" "$tmp/cmake")
if [ -n "$extra" ]; then
  echo "FAIL: the CMake route links with flags pkg-config does not give:"
  printf '  %s\n' $extra
  status=1
fi
[ $status -eq 0 ] && echo "OK: both routes link $language plugins with the same flags: $(echo $(cat "$tmp/pc"))"
exit $status
