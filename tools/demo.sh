#!/usr/bin/env bash
# The main command: installs what is missing, builds, and runs the reference
# devices through the hub's building blocks (lk-device-tour).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/install-deps.sh"
build=$("$root/tools/build.sh" lk-device-tour | tail -n 1)
exec "$build/bin/lk-device-tour" "$@"
