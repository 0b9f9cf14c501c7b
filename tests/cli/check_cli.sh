#!/usr/bin/env bash
# One installed program's command line, as every Latchkey program has it:
#   check_cli.sh PROGRAM NAME VERSION ['ARGS with --opt=value' 'the same with --opt value'
#                [OPTION 'ARGS giving OPTION twice']]
# --help and -h print the same usage with its "Exit status:" section and exit
# 0; --version exits 0 with "NAME VERSION" and the plugin ABI; an unknown
# option exits 2 naming it; a value option is accepted in both GNU forms (the
# program then does the same thing: same exit status, never a usage error);
# an option given twice exits 2 with "option '--opt' given more than once".
# @TMP@ in the arguments is a fresh temporary directory.
set -uo pipefail
program=$1 name=$2 version=$3
equals=${4:-} spaced=${5:-} twice_option=${6:-} twice=${7:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $name: $*"; failures=$((failures + 1)); }

run() {  # run OUT ERR ARGS...: sets status
  local out=$1 err=$2
  shift 2
  timeout 60 "$program" "$@" >"$out" 2>"$err"
  status=$?
}

run "$tmp/help.out" "$tmp/help.err" --help
[[ $status -eq 0 ]] || fail "--help exits $status, not 0"
grep -q "^Usage: $name" "$tmp/help.out" || fail "--help prints no 'Usage: $name' line"
grep -q '^Exit status:$' "$tmp/help.out" || fail "--help has no 'Exit status:' section"
grep -qE '^  0 +[^ ]' "$tmp/help.out" || fail "--help's exit statuses do not list 0"
grep -qE '^  2 +usage error' "$tmp/help.out" || fail "--help's exit statuses do not list 2 as the usage error"
grep -q -- '--version' "$tmp/help.out" || fail "--help does not list --version"
[[ ! -s "$tmp/help.err" ]] || fail "--help writes to stderr: $(cat "$tmp/help.err")"

run "$tmp/h.out" "$tmp/h.err" -h
[[ $status -eq 0 ]] || fail "-h exits $status, not 0"
cmp -s "$tmp/help.out" "$tmp/h.out" || fail "-h prints other text than --help"

run "$tmp/version.out" "$tmp/version.err" --version
[[ $status -eq 0 ]] || fail "--version exits $status, not 0"
first=$(head -n 1 "$tmp/version.out")
[[ "$first" == "$name $version" ]] || fail "--version's first line is '$first', not '$name $version'"
grep -qE '^plugin ABI [0-9]+\.[0-9]+$' "$tmp/version.out" || fail "--version does not name the plugin ABI version"

run "$tmp/unknown.out" "$tmp/unknown.err" --no-such-option
[[ $status -eq 2 ]] || fail "an unknown option exits $status, not 2"
grep -q -- "unknown option '--no-such-option'" "$tmp/unknown.err" ||
  fail "an unknown option's error does not name it: $(cat "$tmp/unknown.err")"

if [[ -n "$equals" ]]; then
  # shellcheck disable=SC2206  # the arguments are words without spaces
  eq_args=(${equals//@TMP@/$tmp})
  sp_args=(${spaced//@TMP@/$tmp})
  run "$tmp/eq.out" "$tmp/eq.err" "${eq_args[@]}"
  eq_status=$status
  run "$tmp/sp.out" "$tmp/sp.err" "${sp_args[@]}"
  [[ $eq_status -ne 2 ]] || fail "'${eq_args[*]}' is a usage error: $(cat "$tmp/eq.err")"
  [[ $status -ne 2 ]] || fail "'${sp_args[*]}' is a usage error: $(cat "$tmp/sp.err")"
  [[ $eq_status -eq $status ]] || fail "'${eq_args[*]}' exits $eq_status, '${sp_args[*]}' $status"
fi

if [[ -n "$twice" ]]; then
  # shellcheck disable=SC2206  # the arguments are words without spaces
  twice_args=(${twice//@TMP@/$tmp})
  run "$tmp/twice.out" "$tmp/twice.err" "${twice_args[@]}"
  [[ $status -eq 2 ]] || fail "'${twice_args[*]}' exits $status, not 2"
  # "lkctl keygen: ..." names the subcommand too
  grep -q -- "^$name[a-z -]*: option '$twice_option' given more than once$" "$tmp/twice.err" ||
    fail "'${twice_args[*]}': the error does not name $twice_option as given more than once: $(cat "$tmp/twice.err")"
fi

[[ $failures -eq 0 ]] && echo "$name: --help, -h, --version, unknown option, GNU value forms and repeated options as expected"
exit $((failures > 0))
