#!/usr/bin/env bash
# The test command: installs what is missing, builds everything and runs every
# test with ctest.  With --sanitize the same happens in an AddressSanitizer +
# UndefinedBehaviorSanitizer build, over the tests where the sanitizers find
# things: everything but the isolated twin of each conformance run (the same
# cases as the in-process twin, the plugin behind a socket), the faulty
# drivers' certification runs (they show lk-certify's verdicts) and the timing
# tests, on network namespaces and of C8 on real frames (labels netns and
# timing: the instrumented hub is too slow for the 50 ms targets they
# measure; they run in the normal pass), and the Debian package test (label
# package: it installs the instrumented binaries on the machine, and shows
# packaging, which the normal pass already does).
# Soaks, long fuzz runs and benchmarks have their own commands:
# tools/soak-camera-link.sh, tools/fuzz.sh, bench/run.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/install-deps.sh"
build=$("$root/tools/build.sh" "$@" | tail -n 1)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exclude=()
[[ "${1:-}" == "--sanitize" ]] && exclude=(-LE "^(isolated|netns|timing|faulty|package|fleet_sim)$")
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 600 "${exclude[@]}"
