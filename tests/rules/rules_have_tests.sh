#!/usr/bin/env bash
# Every rule ID of docs/rules.md has at least one test named after it
# (TEST(Suite, <ID>_...)) in tests/ or conformance/. A rule the document
# marks "Not yet enforced" must have none claiming it, so the day it gets
# one the document has to change too.
#   rules_have_tests.sh <repository root>
set -euo pipefail
root=${1:?usage: rules_have_tests.sh <repository root>}
rules="$root/docs/rules.md"
[[ -f "$rules" ]] || { echo "no $rules"; exit 1; }

ids=$(grep -oE '^\| [GCUFA][0-9] \|' "$rules" | tr -d '| ' | sort -u)
[[ -n "$ids" ]] || { echo "no rule rows found in $rules"; exit 1; }
failed=0
for id in $ids; do
  row=$(grep -E "^\| $id \|" "$rules")
  tests=$(grep -rhoE "TEST(_F|_P)?\([A-Za-z0-9_]+, *${id}_[A-Za-z0-9_]*" "$root/tests" "$root/conformance" 2>/dev/null |
          sed -E 's/TEST(_F|_P)?\(//; s/, */./' | sort -u || true)
  count=$(printf '%s' "$tests" | grep -c . || true)
  if [[ "$row" == *"Not yet enforced"* ]]; then
    if [[ $count -gt 0 ]]; then
      echo "$id: docs/rules.md says not yet enforced, but tests claim it: $(echo $tests)"
      failed=1
    else
      echo "$id: not yet enforced (docs/rules.md), no test claims it"
    fi
  elif [[ $count -eq 0 ]]; then
    echo "$id: no test named ${id}_... in tests/ or conformance/"
    failed=1
  else
    echo "$id: $count test(s), e.g. $(echo "$tests" | head -n1)"
  fi
done
exit $failed
