#!/usr/bin/env bash
# The main command: installs what is missing, builds, and runs the reference
# hub (latchkeyd) with the simulated devices through a delivery, the camera
# freeze attack, refused grants and a camera going offline (lk-demo).
#   tools/demo.sh          the hub demo
#   tools/demo.sh --tour   the plugins alone, through the ABI (lk-device-tour)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/install-deps.sh"
if [[ "${1:-}" == "--tour" ]]; then
  shift
  build=$("$root/tools/build.sh" lk-device-tour | tail -n 1)
  exec "$build/bin/lk-device-tour" "$@"
fi
build=$("$root/tools/build.sh" lk-demo latchkeyd lkctl lk-audit-verify | tail -n 1)
exec "$build/bin/lk-demo" "$@"
