#!/usr/bin/env bash
# The soak of the attack on a real path (docs/attack-path.md): N trials
# (default 100) of each fault - link down, 100 % loss, delay beyond
# live_timeout, replay from the attacker's namespace, frozen source, looped
# file - through network namespaces, a real Mosquitto, lk-camera-agent and
# latchkeyd; prints each trial, then p50, p99 and max of the detection delay
# and the misses per fault. Not part of ctest. Needs root.
#
#   tools/soak-camera-link.sh [--trials N] [--faults link_down,loss,...] [--no-build] [--quiet] [--snapshot DIR]
#
# --snapshot DIR copies latchkeyd, lk-plugin-host, lk-camera-agent, the
# plugins and liblatchkey_proto into DIR and runs those, so that rebuilding
# the tree during a long soak does not change what it runs.
# Builds lk-attack-path first (unless --no-build) in $LATCHKEY_BUILD_DIR
# (default build/), through `flock /tmp/lk-build.lock` when flock exists so
# as not to race another build of the same tree. Runs nice'd; the output also
# goes to $LATCHKEY_SOAK_LOG (default <build>/soak-camera-link.log).
# Exit status: lk-attack-path's (0 no miss, 1 misses, 2 setup failed, 77 no rights).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LATCHKEY_BUILD_DIR:-$root/build}
log=${LATCHKEY_SOAK_LOG:-$build/soak-camera-link.log}

build_first=1
snapshot=
args=(--trials 100)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build_first=0 ;;
    --trials) args+=(--trials "$2"); shift ;;
    --faults) args+=(--faults "$2"); shift ;;
    --quiet) args+=(--quiet) ;;
    --snapshot) snapshot=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "soak-camera-link.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $(id -u) -ne 0 ]]; then
  echo "soak-camera-link.sh: needs root (network namespaces, veth, tc)" >&2
  exit 77
fi

if [[ $build_first == 1 ]]; then
  lock=()
  command -v flock >/dev/null 2>&1 && lock=(flock /tmp/lk-build.lock)
  [[ -f $build/build.ninja || -f $build/Makefile ]] || "${lock[@]}" cmake -S "$root" -B "$build" >&2
  "${lock[@]}" cmake --build "$build" -j2 --target lk-attack-path >&2
fi

program=$build/tests/attack_path/lk-attack-path
[[ -x $program ]] || { echo "soak-camera-link.sh: $program not built" >&2; exit 2; }
if [[ -n $snapshot ]]; then
  mkdir -p "$snapshot/bin" "$snapshot/plugins" "$snapshot/lib"
  cp "$build/bin/latchkeyd" "$build/bin/lk-plugin-host" "$build/bin/lk-camera-agent" "$snapshot/bin/"
  cp "$build"/plugins/*.so "$snapshot/plugins/"
  cp -P "$build"/lib/liblatchkey_proto.so* "$snapshot/lib/"
  cp "$program" "$snapshot/bin/"
  program=$snapshot/bin/lk-attack-path
  export LD_LIBRARY_PATH=$snapshot/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  args+=(--latchkeyd "$snapshot/bin/latchkeyd" --plugin-dir "$snapshot/plugins" --agent "$snapshot/bin/lk-camera-agent")
fi
echo "soak-camera-link.sh: $program ${args[*]} (log $log)" >&2
set +e
nice -n 10 "$program" "${args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
exit "$status"
