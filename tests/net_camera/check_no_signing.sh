#!/bin/sh
# Checks that a plugin cannot sign: it imports no signing function (libsodium
# crypto_sign*, OpenSSL EVP_DigestSign* / EVP_PKEY_sign*, the project's
# sign_attestation), does not link libsodium, and holds no such code itself.
# A hub-side camera plugin that relays (net_camera) passes; one that signs
# (sim_camera) fails, which the tests use to show the check can fail.
#
# usage: check_no_signing.sh [--expect-signing] <nm> <readelf> <plugin.so>
set -u

expect_signing=0
if [ "${1:-}" = "--expect-signing" ]; then
  expect_signing=1
  shift
fi
if [ $# -ne 3 ]; then
  echo "usage: $0 [--expect-signing] <nm> <readelf> <plugin.so>" >&2
  exit 2
fi
nm="$1"
readelf="$2"
plugin="$3"
[ -f "$plugin" ] || { echo "FAIL: $plugin: no such file (is the target built?)" >&2; exit 2; }

pattern='crypto_sign|EVP_DigestSign|EVP_PKEY_sign|ED25519_sign|ed25519.*sign|sign_attestation|lk_attest_sign|SecretKey'
imports=$("$nm" -D --undefined-only "$plugin") || { echo "FAIL: $nm could not read $plugin" >&2; exit 2; }
own=$("$nm" -C "$plugin" 2>/dev/null)   # the full symbol table, when not stripped
needed=$("$readelf" -d "$plugin" | grep NEEDED) || true

found=""
hits=$(printf '%s\n' "$imports" | grep -E -i "$pattern")
[ -n "$hits" ] && found="$found
imports a signing function:
$hits"
hits=$(printf '%s\n' "$own" | grep -E -i "$pattern" | head -5)
[ -n "$hits" ] && found="$found
holds signing code:
$hits"
hits=$(printf '%s\n' "$needed" | grep -i sodium)
[ -n "$hits" ] && found="$found
links libsodium:
$hits"

if [ "$expect_signing" = 1 ]; then
  if [ -n "$found" ]; then
    echo "OK: $plugin can sign, as expected:$found" | head -8
    exit 0
  fi
  echo "FAIL: $plugin shows no signing code, but it signs: the check is blind" >&2
  exit 1
fi
if [ -n "$found" ]; then
  echo "FAIL: $plugin could sign with a key it holds:$found" >&2
  exit 1
fi
echo "OK: $plugin imports no signing function, links no libsodium, holds no signing code"
exit 0
