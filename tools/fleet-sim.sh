#!/usr/bin/env bash
# The fleet simulator (issue 17, docs/fleet.md "The fleet simulator"): 100
# real latchkeyd hubs with simulated devices, one Mosquitto as the fleet
# broker and one lk-witness, on this machine. Builds what it needs in build/
# (tools/build.sh's folder), then prints each figure as a ROW line beside its
# floor measured in the same run.
#
#   tools/fleet-sim.sh [--hubs N] [--via direct|bridge] [--dir DIR] [--figures LIST] [--cost-seconds S]
#
# DIR (default build/fleet-sim) must be on a real disk: every hub fsyncs its
# audit log. It keeps each hub's data directory and log for a look afterwards.
# With 100 hubs the run takes about 3 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LATCHKEY_BUILD_DIR:-$root/build}
args=()
dir=$build/fleet-sim
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --hubs|--via|--figures|--cost-seconds) args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "fleet-sim.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$build/CMakeCache.txt" ]] || "$root/tools/build.sh" >&2
cmake --build "$build" --target lk-fleet-sim >&2
# 100 hubs, each with a few descriptors and threads, plus their broker connections.
ulimit -n 8192 2>/dev/null || true
exec "$build/bench/lk-fleet-sim" --dir "$dir" "${args[@]}"
