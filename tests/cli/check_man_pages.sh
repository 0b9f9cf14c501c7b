#!/usr/bin/env bash
# The generated man pages: check_man_pages.sh DIR PAGE...
# Each page exists, groff formats it without a warning, and it has the
# sections --help gives it (SYNOPSIS from "Usage:", OPTIONS, EXIT STATUS) and
# a SEE ALSO from its include file.
set -uo pipefail
dir=$1
shift
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for page in "$@"; do
  file="$dir/$page"
  if [[ ! -s "$file" ]]; then
    fail "$page was not generated"
    continue
  fi
  warnings=$(groff -man -Tutf8 -z -ww "$file" 2>&1)
  [[ -z "$warnings" ]] || fail "$page: groff warns: $warnings"
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$file" 2>&1 >/dev/null)
  [[ -z "$warnings" ]] || fail "$page: man warns: $warnings"
  for section in SYNOPSIS DESCRIPTION OPTIONS '"EXIT STATUS"' '"SEE ALSO"'; do
    grep -q "^\.SH $section" "$file" || fail "$page has no $section section"
  done
  grep -qF -- '\-\-version' "$file" || fail "$page does not document --version"
done
[[ $failures -eq 0 ]] && echo "$# man pages generated, well-formed, with their sections"
exit $((failures > 0))
