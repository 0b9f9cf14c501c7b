#!/bin/sh
# Builds the C example driver with a C compiler and pkg-config alone, as its
# README shows (--cflags, --libs), against an installed SDK; also checks that
# the version script latchkey.pc names exists.
# usage: build_with_cc.sh <cc> <pkg-config> <pkgconfig dir> <example_lock.c> <output.so>
set -eu
if [ $# -ne 5 ]; then
  echo "usage: $0 <cc> <pkg-config> <pkgconfig dir> <source.c> <output.so>" >&2
  exit 2
fi
cc="$1"
pkg_config="$2"
PKG_CONFIG_PATH="$3"
export PKG_CONFIG_PATH
source="$4"
output="$5"

cflags=$("$pkg_config" --cflags latchkey)
libs=$("$pkg_config" --libs latchkey)
version_script=$("$pkg_config" --variable=plugin_version_script latchkey)
[ -f "$version_script" ] || { echo "FAIL: plugin_version_script $version_script does not exist" >&2; exit 1; }
mkdir -p "$(dirname "$output")"
rm -f "$output"
set -x
# shellcheck disable=SC2086 # cflags and libs hold several words
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -fPIC $cflags -shared -o "$output" "$source" $libs
