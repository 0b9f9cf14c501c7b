#!/usr/bin/env bash
# Builds the benchmarks in Release in their own build directory, runs every
# figure and prints one table: figure, measured, floor (measured in the same
# run), ratio, target, verdict. docs/performance.md records a run.
#
#   bench/run.sh                   # build dir: ../build-bench beside the repo
#   LATCHKEY_BENCH_BUILD_DIR=<dir> bench/run.sh
#
# The audit figures need a real disk: the data directory (default
# <build>/bench-data) must not be tmpfs (LATCHKEY_BENCH_DATA_DIR moves it).
# The camera-link figures need mosquitto, mosquitto_passwd and ffmpeg
# (tools/install-deps.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LATCHKEY_BENCH_BUILD_DIR:-$(dirname "$repo")/build-bench}
data=${LATCHKEY_BENCH_DATA_DIR:-$build/bench-data}
logs=$build/bench-logs
started=$(date +%s)

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
generator=()
if command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi

# -O2 rather than CMake's -O3 for Release: GCC 12 at -O3 reports a false
# -Wrestrict inside libstdc++ (char_traits.h) that -Werror turns into a
# build failure in sdk/src/host/plugin.cpp.
echo "== configure and build ($build)" >&2
cmake -S "$repo" -B "$build" "${generator[@]}" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DLATCHKEY_BUILD_TESTS=OFF >"$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" --target latchkey_benchmarks >&2

bin=$build/bench
mkdir -p "$logs" "$data"
rows=$logs/rows.tsv
: >"$rows"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# run <log name> <command...>: keeps the program's output in the log, its rows in rows.tsv.
run() {
  local name=$1
  shift
  echo "== $name" >&2
  if ! "$@" >"$logs/$name.log" 2>&1; then
    echo "   $name failed; see $logs/$name.log" >&2
    printf 'ROW\t%s\tfailed\t-\t-\t-\tERROR\tsee %s\n' "$name" "$logs/$name.log" >>"$rows"
  fi
  grep -o $'ROW\t.*' "$logs/$name.log" >>"$rows" || true
}

run abi "$bin/lk-bench-abi" --benchmark_color=false
run socket "$bin/lk-bench-socket" --benchmark_color=false
run attestation "$bin/lk-bench-attestation" --benchmark_color=false
run audit "$bin/lk-bench-hub" audit --dir "$data"
run unlock "$bin/lk-bench-hub" unlock --dir "$data" --trials 200
run fleet "$bin/lk-bench-hub" fleet --dir "$data" --trials 100
run camera-loss-2000 "$bin/lk-bench-hub" camera-loss --dir "$data" --cameras 2000 --trials 30
run camera-loss-500 "$bin/lk-bench-hub" camera-loss --dir "$data" --cameras 500 --trials 20
run memory "$bin/lk-bench-hub" memory --dir "$data" --counts 10,100,1000,2000
# The real camera link: lk-camera-agent, Mosquitto (/usr/sbin/mosquitto) and
# the net_camera plugin; FFmpeg's ffmpeg makes the agent's input files.
run camera-link-echo "$bin/lk-bench-camera-link" nonce-echo --dir "$data" --periods 20,100 --trials 300 \
  --nodelay-periods 20
run camera-link-agent-cpu "$bin/lk-bench-camera-link" agent-cpu --dir "$data" --sizes 1280x720,1920x1080 --seconds 10
run camera-link-hub-cpu "$bin/lk-bench-camera-link" hub-cpu --dir "$data" --counts 1,8,32 --seconds 10

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - started ))

echo
echo "Latchkey benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "load average before: $load_before; after: $load_after; run time: ${elapsed} s"
echo
awk -F'\t' 'BEGIN {
    print "| figure | measured | floor (same run) | ratio | target | verdict | notes |"
    print "|---|---|---|---|---|---|---|"
  }
  { printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8 }' "$rows"
