#!/bin/sh
# Checks that a plugin carries its own C++ runtime: it binds no symbol to the
# host's C++ runtime (libstdc++, libc++, libc++abi) nor to any other image's
# copy of it (docs/abi.md, section 12). The unwinder, libgcc_s, is shared on
# purpose and is not a C++ runtime here.
#
# usage: check_cxx_runtime.sh [--expect-violation] <readelf> <nm> <loader> <plugin.so> <runtime library>...
#
#   1. the dynamic section: no NEEDED C++ runtime library;
#   2. the dynamic symbols: no undefined symbol (strong or weak) that one of
#      the runtime libraries given defines;
#   3. the bindings: <loader> <plugin.so> runs under LD_DEBUG=bindings (the
#      dynamic linker's own record of where each symbol went) and no symbol
#      of the plugin may be bound to a C++ runtime library.
# <loader> is a program linked with the C++ runtime that loads the plugin the
# way the hub does (lk-plugin-info), so the host's runtime is there to be
# bound to. With --expect-violation the check passes only when it finds one
# (the tests prove it can fail on a plugin linked the ordinary way).
set -u

expect_violation=0
if [ "${1:-}" = "--expect-violation" ]; then
  expect_violation=1
  shift
fi
if [ $# -lt 5 ]; then
  echo "usage: $0 [--expect-violation] <readelf> <nm> <loader> <plugin.so> <runtime library>..." >&2
  exit 2
fi
readelf="$1"
nm="$2"
loader="$3"
plugin="$4"
shift 4
if [ ! -f "$plugin" ]; then
  echo "FAIL: $plugin: no such file (is the target built?)" >&2
  exit 2
fi
runtime_name='(libstdc\+\+|libc\+\+|libc\+\+abi)\.so'
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
violations=0

# 1. NEEDED
"$readelf" -d -W "$plugin" > "$tmp/dynamic" || { echo "FAIL: $readelf -d could not read $plugin" >&2; exit 2; }
needed=$(awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }' "$tmp/dynamic")
echo "$plugin needs: $(echo $needed)"
bad_needed=$(printf '%s\n' "$needed" | grep -E "^$runtime_name" || true)
if [ -n "$bad_needed" ]; then
  echo "VIOLATION: the plugin needs a shared C++ runtime library (link it with -static-libstdc++):"
  printf '  %s\n' $bad_needed
  violations=$((violations + 1))
fi

# 2. Undefined symbols the runtime defines
"$readelf" --dyn-syms -W "$plugin" | awk '$7 == "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' | sort -u > "$tmp/undefined"
: > "$tmp/runtime"
for library in "$@"; do
  if [ ! -f "$library" ]; then
    echo "FAIL: runtime library $library not found" >&2
    exit 2
  fi
  "$nm" -D --defined-only "$library" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' >> "$tmp/runtime"
done
sort -u -o "$tmp/runtime" "$tmp/runtime"
if [ ! -s "$tmp/runtime" ]; then
  echo "FAIL: no symbols read from the runtime libraries: $*" >&2
  exit 2
fi
comm -12 "$tmp/undefined" "$tmp/runtime" > "$tmp/unresolved"
if [ -s "$tmp/unresolved" ]; then
  echo "VIOLATION: undefined symbols that the C++ runtime defines (they bind to whichever runtime the process has):"
  sed 's/^/  /' "$tmp/unresolved" | head -20
  violations=$((violations + 1))
fi

# 3. The dynamic linker's bindings while the plugin loads
LD_DEBUG=bindings LD_BIND_NOW=1 "$loader" "$plugin" > "$tmp/loader.out" 2> "$tmp/bindings"
base=$(basename "$plugin")
if ! grep -q "binding file [^ ]*$base " "$tmp/bindings"; then
  echo "FAIL: $loader $plugin left no binding of $base under LD_DEBUG=bindings (was it loaded?):" >&2
  head -20 "$tmp/loader.out" >&2
  exit 2
fi
grep "binding file [^ ]*$base " "$tmp/bindings" | grep -E " to [^ ]*$runtime_name" > "$tmp/bound" || true
if [ -s "$tmp/bound" ]; then
  echo "VIOLATION: symbols of the plugin bound to a C++ runtime outside it (LD_DEBUG=bindings):"
  sed 's/^[ 0-9]*:[[:space:]]*/  /' "$tmp/bound" | head -20
  violations=$((violations + 1))
fi
echo "$(grep -c "binding file [^ ]*$base " "$tmp/bindings") bindings of $base, $(wc -l < "$tmp/bound") to a C++ runtime"

if [ "$expect_violation" -eq 1 ]; then
  if [ "$violations" -gt 0 ]; then
    echo "OK: the violation was found, as expected"
    exit 0
  fi
  echo "FAIL: expected a C++ runtime violation in $plugin, found none"
  exit 1
fi
if [ "$violations" -gt 0 ]; then
  echo "FAIL: $plugin does not keep its C++ runtime to itself ($violations checks failed)"
  exit 1
fi
echo "OK: $plugin carries its own C++ runtime"
