#!/usr/bin/env bash
# help2man-adapter.sh PROGRAM --help|--version: what help2man reads of PROGRAM.
# --help as the program prints it, with its "Exit status:" heading written as
# help2man's "*Exit status*", which makes it the EXIT STATUS section (lkctl's
# "Commands:" likewise becomes COMMANDS); of --version the first line
# ("<program> <version>"), which help2man puts in the page's header (the
# plugin ABI line after it would land in the last section).
set -euo pipefail
program=$1
shift
# In a sanitizer build a leak report would fail the page, not a test: tests/cli
# runs the same programs with leak detection on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
case "${1:-}" in
  --version) "$program" --version | head -n 1 ;;
  *) "$program" "$@" | sed -e 's/^Exit status:$/*Exit status*/' -e 's/^Commands:$/*Commands*/' ;;
esac
