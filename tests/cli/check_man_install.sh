#!/usr/bin/env bash
# The man pages install with their programs' components:
#   check_man_install.sh BUILD_DIR MANDIR PROGRAM|SECTION|COMPONENT...
# `cmake --install --component C` of each component into a fresh prefix puts
# there exactly the pages of that component's programs, under MANDIR/manN.
set -uo pipefail
build=$1 mandir=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
declare -A expected
for row in "$@"; do
  IFS='|' read -r program section component _ <<<"$row"
  expected[$component]+="$mandir/man$section/$program.$section"$'\n'
done
for component in "${!expected[@]}"; do
  prefix="$tmp/$component"
  cmake --install "$build" --prefix "$prefix" --component "$component" >/dev/null ||
    { fail "cmake --install --component $component failed"; continue; }
  want=$(printf '%s' "${expected[$component]}" | sort)
  got=$(cd "$prefix" && find "$mandir" -type f 2>/dev/null | sort)
  [[ "$got" == "$want" ]] || fail "component $component installs pages '$got', not '$want'"
done
[[ $failures -eq 0 ]] && echo "man pages install with their components: ${!expected[*]}"
exit $((failures > 0))
