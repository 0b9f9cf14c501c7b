#!/usr/bin/env bash
# Installs the Debian 12 packages Latchkey needs, non-interactively.
# Does nothing (and needs no network) when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libpoco-dev libprotobuf-dev protobuf-compiler libuv1-dev
  libboost-dev libboost-filesystem-dev
  libboost-program-options-dev  # one option parser for every program (common/)
  help2man groff-base man-db  # the man pages, generated from each program's --help; tests/cli checks them
  libgtest-dev libgmock-dev libsodium-dev libsqlite3-dev libbenchmark-dev
  abigail-tools binutils
  clang-14 libc++-14-dev libc++abi-14-dev libclang-rt-14-dev
  mosquitto mosquitto-clients libmosquitto-dev mosquitto-dev openssl
  ffmpeg libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev
  iproute2 tcpdump
  libsystemd-dev  # latchkeyd's sd_notify (Type=notify, watchdog)
  chromium  # headless DOM checks: the status page, lk-certify's HTML report
  dpkg-dev  # dpkg-shlibdeps: the Debian packages' Depends (tools/package.sh, CPack)
  passwd    # useradd/groupadd in the latchkeyd package's maintainer scripts
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
