#!/usr/bin/env bash
# Builds the Debian packages (docs/packaging.md): installs what is missing,
# builds the tree (tools/build.sh), then CPack makes latchkey-sdk,
# latchkey-runtime, latchkeyd, lk-certify and lk-camera-agent.
#   tools/package.sh [OUTPUT_DIR]   (default: <build dir>/packages)
# The build dir is build/ or $LATCHKEY_BUILD_DIR, as for tools/build.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/install-deps.sh"
build=$("$root/tools/build.sh" | tail -n 1)
out=${1:-$build/packages}
mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" >&2
# Only the packages, not CPack's working folder.
find "$out" -maxdepth 1 -name '*.deb' -newer "$build/CPackConfig.cmake" -print | sort
