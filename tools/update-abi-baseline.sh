#!/bin/sh
# Regenerates the committed ABI baseline sdk/abi/latchkey-abi-v1.xml from a
# fresh build of the ABI probe (sdk/abi/latchkey_abi_probe.c).
#
# usage: tools/update-abi-baseline.sh <build dir>
#
# Run it only for a reviewed ABI change (a new minor appends fields, tables or
# constants; a released layout never changes), and commit the new baseline
# together with the header change. The abi.baseline test then passes again.
# Needs abidw (Debian: abigail-tools).
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 <build dir>" >&2
  exit 2
fi
build_dir="$1"
source_dir=$(cd "$(dirname "$0")/.." && pwd)
baseline="$source_dir/sdk/abi/latchkey-abi-v1.xml"

command -v abidw >/dev/null 2>&1 || { echo "abidw not found (Debian: abigail-tools)" >&2; exit 1; }
cmake --build "$build_dir" --target latchkey_abi_probe
probe="$build_dir/sdk/abi/liblatchkey_abi_probe.so"
[ -f "$probe" ] || { echo "$probe not found after the build" >&2; exit 1; }

# No machine-specific paths: no corpus path, no compilation folder, file
# names only in locations (the probe's DWARF already has the source prefix
# mapped away), and content-derived type ids so that a change touches only
# the lines it must.
abidw --no-corpus-path --no-comp-dir-path --short-locs --type-id-style hash \
  --out-file "$baseline" "$probe"
echo "wrote $baseline"
if git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$source_dir" --no-pager diff --stat -- "$baseline"
fi
