#!/bin/sh
# Builds the C example driver with a C compiler and pkg-config alone, as its
# README shows, against an installed SDK.
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
version_script=$("$pkg_config" --variable=plugin_version_script latchkey)
mkdir -p "$(dirname "$output")"
rm -f "$output"
set -x
# shellcheck disable=SC2086 # cflags holds several words
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic $cflags -shared -fPIC -fvisibility=hidden \
  -Wl,--version-script="$version_script" -Wl,-z,defs -o "$output" "$source"
