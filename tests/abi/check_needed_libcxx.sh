#!/bin/sh
# Checks that a plugin was built with libc++ and carries it: libc++ code
# (std::__1) is in its symbol table, and it needs neither libc++ nor
# libc++abi nor libstdc++ (latchkey_add_plugin links the runtime statically).
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
if ! "$1" -s -W "$2" | grep -q '_ZNSt3__1'; then
  echo "FAIL: no libc++ (std::__1) code in the plugin: it was not built with -stdlib=libc++"
  status=1
fi
if printf '%s\n' "$needed" | grep -q -E '^(libc\+\+|libc\+\+abi|libstdc\+\+)\.so'; then
  echo "FAIL: the plugin needs a shared C++ runtime; latchkey_add_plugin links it statically"
  status=1
fi
[ $status -eq 0 ] && echo "OK: built with libc++, which it carries; no shared C++ runtime needed"
exit $status
