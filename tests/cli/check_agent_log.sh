#!/usr/bin/env bash
# lk-camera-agent's log: check_agent_log.sh LK_CAMERA_AGENT
# A new key file is an info event. At --log-level info it is one line with an
# RFC 3339 UTC time in milliseconds; at --log-level warning (command line or
# config file) the line is dropped; with stderr on the journal (JOURNAL_STREAM
# naming it, as systemd sets it) the line is "<6>info: ..." without a time.
set -uo pipefail
agent=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

"$agent" --key-file "$tmp/a.key" --print-key --log-level info >/dev/null 2>"$tmp/info.err" || fail "info run failed"
grep -qE "$stamp lk-camera-agent info: .*a new device key" "$tmp/info.err" ||
  fail "at info, no time-stamped info line: $(cat "$tmp/info.err")"
[[ $(wc -l <"$tmp/info.err") -eq 1 ]] || fail "at info, not one line: $(cat "$tmp/info.err")"

"$agent" --key-file "$tmp/b.key" --print-key --log-level=warning >/dev/null 2>"$tmp/warning.err" ||
  fail "warning run failed"
[[ -f "$tmp/b.key" ]] || fail "the warning run made no key"
[[ ! -s "$tmp/warning.err" ]] || fail "at warning, the info line is not dropped: $(cat "$tmp/warning.err")"

printf 'key-file = %s\nlog-level = warning\n' "$tmp/c.key" >"$tmp/agent.conf"
"$agent" --config "$tmp/agent.conf" --print-key >/dev/null 2>"$tmp/config.err" || fail "config run failed"
[[ ! -s "$tmp/config.err" ]] || fail "log-level = warning in --config is not applied: $(cat "$tmp/config.err")"

: >"$tmp/journal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/journal.err") \
  "$agent" --key-file "$tmp/d.key" --print-key >/dev/null 2>>"$tmp/journal.err" || fail "journal run failed"
grep -qE '^<6>info: .*a new device key' "$tmp/journal.err" || fail "no journal form: $(cat "$tmp/journal.err")"

"$agent" --key-file "$tmp/e.key" --print-key --log-level loud >/dev/null 2>"$tmp/bad.err"
status=$?
[[ $status -eq 2 ]] || fail "--log-level loud exits $status, not 2"
grep -q -- '--log-level' "$tmp/bad.err" || fail "--log-level loud: the error does not name it: $(cat "$tmp/bad.err")"

[[ $failures -eq 0 ]] && echo "lk-camera-agent: levels, RFC 3339 ms stamps and the journal form as expected"
exit $((failures > 0))
