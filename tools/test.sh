#!/usr/bin/env bash
# The test command: installs what is missing, builds everything and runs every
# test with ctest.  With --sanitize the same happens in an AddressSanitizer +
# UndefinedBehaviorSanitizer build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/install-deps.sh"
build=$("$root/tools/build.sh" "$@" | tail -n 1)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600
