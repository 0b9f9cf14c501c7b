#!/bin/sh
# Builds and runs a camera firmware sketch against the installed SDK with a C
# compiler and pkg-config alone (latchkey-attest.pc).
# usage: build_attest_with_cc.sh <cc> <pkg-config> <pkgconfig dir> <source.c> <output>
# LATCHKEY_EXTRA_CFLAGS: more flags (the sanitizers, when the SDK was built with them).
set -eu
[ $# -eq 5 ] || { echo "usage: $0 <cc> <pkg-config> <pkgconfig dir> <source.c> <output>" >&2; exit 2; }
PKG_CONFIG_PATH="$3"
export PKG_CONFIG_PATH
cflags=$("$2" --cflags latchkey-attest)
libs=$("$2" --libs latchkey-attest)
mkdir -p "$(dirname "$5")"
set -x
# shellcheck disable=SC2086 # several words each
"$1" -std=c99 -Wall -Wextra -Werror -pedantic ${LATCHKEY_EXTRA_CFLAGS:-} $cflags -o "$5" "$4" $libs
"$5"
