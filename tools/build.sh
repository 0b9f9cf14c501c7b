#!/usr/bin/env bash
# Configures and builds Latchkey with Ninja (and ccache when present).
#   tools/build.sh [--sanitize] [ninja targets...]
# The build goes to build/ (build-sanitize/ with --sanitize), or $LATCHKEY_BUILD_DIR;
# the build log goes to stderr and the build directory is printed on stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

sanitize=OFF
if [[ "${1:-}" == "--sanitize" ]]; then
  sanitize=ON
  shift
fi
default_dir="$root/build"
[[ $sanitize == ON ]] && default_dir="$root/build-sanitize"
build=${LATCHKEY_BUILD_DIR:-$default_dir}

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLATCHKEY_SANITIZE=$sanitize "${launcher[@]}" >&2
cmake --build "$build" -j"$(nproc)" ${1:+--target "$@"} >&2
echo "$build"
