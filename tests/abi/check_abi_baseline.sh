#!/bin/sh
# Compares the freshly built ABI probe with the committed baseline.
#
# usage: check_abi_baseline.sh <abidiff> <suppressions> <baseline.xml> <probe.so>
#
# abidiff's exit status is a bit mask (1 error, 2 usage, 4 ABI change,
# 8 incompatible change); any bit set fails the test, and the report is
# printed so the failing test names the changed type and field.
set -u
if [ $# -ne 4 ]; then
  echo "usage: $0 <abidiff> <suppressions> <baseline.xml> <probe.so>" >&2
  exit 2
fi
abidiff="$1"
suppressions="$2"
baseline="$3"
probe="$4"

report=$("$abidiff" --harmless --suppressions "$suppressions" "$baseline" "$probe" 2>&1)
status=$?
if [ $status -ne 0 ]; then
  printf '%s\n' "$report"
  echo "FAIL: abidiff exit status $status: the ABI of the headers differs from $baseline."
  echo "An intended change (a new minor appends fields or tables) is committed with a new"
  echo "baseline: tools/update-abi-baseline.sh <build dir>. A released layout never changes."
  exit 1
fi
# abidiff also exits 0 when it could not see any type (a stripped probe).
if [ -n "$report" ]; then
  printf '%s\n' "$report"
fi
echo "OK: the ABI matches $baseline"
exit 0
