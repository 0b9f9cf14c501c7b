#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ and runs them (fuzz/README.md).
#   tools/fuzz.sh [--ci] [--seconds N] [--jobs J] [--merge] [--no-build] [target...]
# Each target first replays every input of fuzz/regressions/<target>/, then
# fuzzes for N seconds (default 10) from fuzz/corpus/<target>/ plus those
# regressions. It fuzzes a scratch copy of the corpus: the repository stays
# as it is unless --merge is given, which merges what was found back into
# fuzz/corpus/<target>/ (minimised by libFuzzer's -merge=1).
# J targets run at once (default 1). Per target it prints executions, exec/s,
# CPU seconds and executions per CPU-hour, new corpus entries and crashes; a
# crash leaves its input under the run directory, whose path is printed, and
# makes the exit status 1.
# --ci: every target, 10 s each, as many at once as there are cores, and the
# wall time of the whole run (build included) at the end; fails on a crash,
# a regression that crashes again, or a target that did not run.
# The build goes to build-fuzz/ or $LATCHKEY_FUZZ_BUILD_DIR; runs to
# $LATCHKEY_FUZZ_RUN_DIR or a fresh temporary directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
started=$SECONDS

seconds=10
jobs=1
jobs_given=0
merge=0
build=1
ci=0
targets=()
all_targets=(grant unlock_request attestation frames_host_to_hub frames_hub_to_host
             http_request_target http_request_body daemon_config
             net_camera_uri hello_pin password_file broker_report z2m_report command_intake nonce_intake agent_config
             fleet_down)

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || { echo "fuzz.sh: --seconds needs a whole number above 0" >&2; exit 2; }
               seconds=$2; shift 2 ;;
    --jobs)    [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || { echo "fuzz.sh: --jobs needs a whole number above 0" >&2; exit 2; }
               jobs=$2; jobs_given=1; shift 2 ;;
    --ci)      ci=1; shift ;;
    --merge)   merge=1; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    -*)        echo "fuzz.sh: unknown option '$1'" >&2; usage ;;
    *)         [[ " ${all_targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown target '$1' (known: ${all_targets[*]})" >&2; exit 2; }
               targets+=("$1"); shift ;;
  esac
done
if [[ $ci == 1 ]]; then
  [[ ${#targets[@]} -eq 0 && $merge == 0 ]] || { echo "fuzz.sh: --ci runs every target and merges nothing" >&2; exit 2; }
  seconds=10
  [[ $jobs_given == 1 ]] || jobs=$(nproc)
fi
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

bdir=${LATCHKEY_FUZZ_BUILD_DIR:-$root/build-fuzz}
if [[ $build == 1 ]]; then
  "$root/tools/install-deps.sh"
  launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DLATCHKEY_FUZZ=ON -DLATCHKEY_BUILD_TESTS=OFF \
    "${launcher[@]}" >/dev/null
  cmake --build "$bdir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >&2
  echo "fuzz: built in $((SECONDS - started)) s"
fi

run=${LATCHKEY_FUZZ_RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/latchkey-fuzz.XXXXXX")}
mkdir -p "$run"
echo "fuzz: ${#targets[@]} target(s), $seconds s each, $jobs at a time; run directory $run"

# One target: replay its regressions, fuzz, summarise. Writes $run/<target>.summary.
fuzz_one() {
  local t=$1 exe="$bdir/fuzz/fuzz_$1" dir="$run/$1"
  local corpus="$dir/corpus" regressions="$root/fuzz/regressions/$1" status=ok
  mkdir -p "$corpus" "$dir/crashes"
  [[ -x "$exe" ]] || { echo "$t: $exe is missing (build it, or drop --no-build)" >"$run/$t.summary"; return; }
  cp "$root/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  local seeds=("$corpus")
  local replayed=0
  if [[ -d "$regressions" ]] && compgen -G "$regressions/*" >/dev/null; then
    seeds+=("$regressions")
    local files=("$regressions"/*)
    replayed=${#files[@]}
    if ! "$exe" -runs=1 "${files[@]}" >"$dir/regressions.log" 2>&1; then
      echo "$t: CRASH replaying fuzz/regressions/$t (see $dir/regressions.log)" >"$run/$t.summary"
      return
    fi
  fi
  local before
  before=$(find "$corpus" -type f | wc -l)
  # CPU seconds as well as wall time: exec/s alone says little on a shared machine.
  local TIMEFORMAT='%R %U %S'
  { time (cd "$dir" && "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/" "${seeds[@]}" >"$dir/fuzz.log" 2>&1); } 2>"$dir/time" || status=crash
  local after execs rate cpu per_cpu_hour
  after=$(find "$corpus" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log")
  cpu=$(awk 'NF == 3 { printf "%.1f", $2 + $3 }' "$dir/time")
  per_cpu_hour=$(awk -v e="${execs:-0}" -v c="${cpu:-0}" 'BEGIN { if (c > 0) printf "%.1fM", e * 3.6e-3 / c; else print "?" }')
  local line
  line=$(printf '%-20s %10s execs %8s exec/s %6s CPU s %9s execs/CPU-h %5s new entries, %d regressions replayed' \
         "$t" "${execs:-?}" "${rate:-?}" "${cpu:-?}" "$per_cpu_hour" "$((after - before))" "$replayed")
  if [[ $status == crash ]]; then
    local input
    input=$(find "$dir/crashes" -type f | head -n1)
    line+=", CRASH: ${input:-no input saved} (log: $dir/fuzz.log)"
  elif [[ -z "$execs" ]]; then
    line+=", NO RUN: no statistics in $dir/fuzz.log"
  else
    line+=", no crash"
    if [[ $merge == 1 ]]; then
      "$exe" -merge=1 "$root/fuzz/corpus/$t" "$corpus" >"$dir/merge.log" 2>&1
      line+=", merged into fuzz/corpus/$t"
    fi
  fi
  echo "$line" >"$run/$t.summary"
}

running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
for t in "${targets[@]}"; do
  cat "$run/$t.summary"
  grep -q "CRASH\|missing\|NO RUN" "$run/$t.summary" && failed=1
done
[[ $ci == 0 ]] || echo "fuzz: --ci took $((SECONDS - started)) s in all; $([[ $failed == 0 ]] && echo passed || echo FAILED)"
exit $failed
