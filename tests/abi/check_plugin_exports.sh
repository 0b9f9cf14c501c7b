#!/bin/sh
# Checks that a plugin exports lk_plugin_negotiate and nothing else, and that
# no dynamic symbol has GNU UNIQUE binding (which pins a library in memory
# and shares state across plugins).
#
# usage: check_plugin_exports.sh [--expect-violation extra-export|missing-entry|unique] <nm> <readelf> <plugin.so>
#
# Without --expect-violation the check passes when the plugin is clean. With
# it, the check passes only when that violation is found: the tests use this
# on deliberately bad plugins to prove the check can fail.
set -u

expected=""
if [ "${1:-}" = "--expect-violation" ]; then
  expected="$2"
  shift 2
fi
if [ $# -ne 3 ]; then
  echo "usage: $0 [--expect-violation extra-export|missing-entry|unique] <nm> <readelf> <plugin.so>" >&2
  exit 2
fi
nm="$1"
readelf="$2"
plugin="$3"

if [ ! -f "$plugin" ]; then
  echo "FAIL: $plugin: no such file (is the target built?)" >&2
  exit 2
fi

# Defined dynamic symbols, names only.
defined=$("$nm" -D --defined-only "$plugin" | awk 'NF >= 3 { print $3 }') || {
  echo "FAIL: $nm could not read $plugin" >&2
  exit 2
}
dynsyms=$("$readelf" --dyn-syms -W "$plugin") || {
  echo "FAIL: $readelf could not read $plugin" >&2
  exit 2
}

found=""
extra=$(printf '%s\n' "$defined" | grep -v -x -e 'lk_plugin_negotiate' -e '' || true)
if [ -n "$extra" ]; then
  echo "$plugin: exports symbols other than lk_plugin_negotiate (nm -D --defined-only):"
  printf '  %s\n' $extra
  found="$found extra-export"
fi
if ! printf '%s\n' "$defined" | grep -q -x 'lk_plugin_negotiate'; then
  echo "$plugin: does not export lk_plugin_negotiate"
  found="$found missing-entry"
fi
unique=$(printf '%s\n' "$dynsyms" | awk '$5 == "UNIQUE" { print $8 }')
if [ -n "$unique" ]; then
  echo "$plugin: symbols with GNU UNIQUE binding (readelf --dyn-syms):"
  printf '  %s\n' $unique
  found="$found unique"
fi

if [ -z "$expected" ]; then
  if [ -n "$found" ]; then
    echo "FAIL:$found"
    exit 1
  fi
  echo "OK: $plugin exports lk_plugin_negotiate only, no UNIQUE symbols"
  exit 0
fi
case " $found " in
  *" $expected "*)
    echo "OK: the check caught the expected violation '$expected' in $plugin"
    exit 0
    ;;
esac
echo "FAIL: expected the check to find '$expected' in $plugin; it found:${found:- nothing}"
exit 1
