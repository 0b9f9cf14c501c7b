#!/bin/sh
# Checks that a plugin was linked against libc++ and not libstdc++.
# usage: check_needed_libcxx.sh <readelf> <plugin.so>
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 <readelf> <plugin.so>" >&2
  exit 2
fi
needed=$("$1" -d "$2" | awk '/\(NEEDED\)/ { print $NF }' | tr -d '[]') || exit 2
echo "$2 needs:"
printf '  %s\n' $needed
status=0
if ! printf '%s\n' "$needed" | grep -q -x 'libc++.so.1'; then
  echo "FAIL: libc++.so.1 is not needed: the plugin was not built with -stdlib=libc++"
  status=1
fi
if printf '%s\n' "$needed" | grep -q '^libstdc++'; then
  echo "FAIL: the plugin needs libstdc++"
  status=1
fi
[ $status -eq 0 ] && echo "OK: built with libc++, no libstdc++"
exit $status
