#!/usr/bin/env bash
# Starts a Latchkey hub broker (Debian's /usr/sbin/mosquitto) in a folder of
# its own, for the demo and for trying the camera link by hand. The same
# settings as tools/broker/mosquitto-latchkey.conf and the shipped ACL
# (docs/broker.md); tests use the C++ fixture tests/support/mosquitto_broker.hpp.
#
#   tools/hub-broker.sh --dir DIR [--address ADDR] [--port N] [--tls-port N | --no-tls]
#                       [--camera ID]... [--foreground]
#   tools/hub-broker.sh --stop DIR
#
# In DIR (created, mode 0700): passwd (mosquitto_passwd), password.<user>
# (mode 0600: the password of "hub" and of each camera, kept across runs),
# latchkey.acl, tls/ (a throwaway CA and a server certificate for ADDR),
# mosquitto.conf, conf.d/ (read by include_dir: put a [fleet] via = bridge
# hub's `latchkeyd --print-fleet-bridge` output there as fleet-bridge.conf,
# docs/fleet.md), mosquitto.log, mosquitto.pid. Without --foreground it
# returns once the broker accepts connections and prints KEY=VALUE lines
# (broker, tls_broker, hub_password_file, ca_file, uri) for scripts to read.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="" address="127.0.0.1" port=1883 tls_port=8883 tls=1 foreground=0 stop="" cameras=()

usage() { sed -n '8,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --address) address="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --tls-port) tls_port="$2"; shift 2 ;;
    --no-tls) tls=0; shift ;;
    --camera) cameras+=("$2"); shift 2 ;;
    --foreground) foreground=1; shift ;;
    --stop) stop="$2"; shift 2 ;;
    *) usage ;;
  esac
done

if [[ -n "$stop" ]]; then
  pid=$(cat "$stop/mosquitto.pid" 2>/dev/null || true)
  [[ -n "$pid" ]] || { echo "hub-broker: no broker pid in $stop" >&2; exit 1; }
  kill -TERM "$pid" 2>/dev/null || exit 0
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  exit 0
fi

[[ -n "$dir" ]] || usage
for id in "${cameras[@]}"; do
  [[ "$id" =~ ^[A-Za-z0-9._-]{1,63}$ ]] || { echo "hub-broker: camera id '$id': 1-63 of A-Z a-z 0-9 . _ -" >&2; exit 2; }
  [[ "$id" != "hub" ]] || { echo "hub-broker: 'hub' is the hub's user, not a camera id" >&2; exit 2; }
done
for tool in /usr/sbin/mosquitto mosquitto_passwd; do
  command -v "$tool" >/dev/null || { echo "hub-broker: $tool not found (tools/install-deps.sh installs it)" >&2; exit 1; }
done

mkdir -p "$dir"
chmod 700 "$dir"
dir=$(cd "$dir" && pwd)

# Users: hub and each camera; a password once made is kept.
rm -f "$dir/passwd"
touch "$dir/passwd"
chmod 600 "$dir/passwd"
for user in hub "${cameras[@]}"; do
  file="$dir/password.$user"
  if [[ ! -s "$file" ]]; then
    (umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file"; echo >> "$file")
  fi
  mosquitto_passwd -b "$dir/passwd" "$user" "$(head -n 1 "$file")"
done
cp "$root/tools/broker/latchkey.acl" "$dir/latchkey.acl"
mkdir -p "$dir/conf.d"
chmod 700 "$dir/conf.d"

if [[ "$tls" == 1 && ! -s "$dir/tls/server.crt" ]]; then
  command -v openssl >/dev/null || { echo "hub-broker: openssl not found (tools/install-deps.sh installs it)" >&2; exit 1; }
  mkdir -p "$dir/tls"
  if [[ "$address" =~ ^[0-9.]+$ || "$address" == *:* ]]; then san="IP:$address"; else san="DNS:$address"; fi
  [[ "$address" == "127.0.0.1" ]] && san="$san,DNS:localhost"
  (
    cd "$dir/tls"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
      -days 365 -subj "/CN=Latchkey hub broker CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
      -subj "/CN=$address" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$san" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 365 \
      -extfile server.ext 2>/dev/null
    chmod 644 ca.crt server.crt
  )
fi

{
  echo "# Written by tools/hub-broker.sh: the settings of tools/broker/mosquitto-latchkey.conf."
  echo "per_listener_settings false"
  echo "allow_anonymous false"
  echo "password_file $dir/passwd"
  echo "acl_file $dir/latchkey.acl"
  echo "max_packet_size 1200"
  echo "persistence false"
  echo "max_queued_messages 100"
  echo "log_dest file $dir/mosquitto.log"
  echo "connection_messages true"
  [[ $(id -u) -eq 0 ]] && echo "user root"   # else it would drop to 'mosquitto', who cannot read $dir
  echo "listener $port $address"
  if [[ "$tls" == 1 ]]; then
    echo "listener $tls_port $address"
    echo "cafile $dir/tls/ca.crt"
    echo "certfile $dir/tls/server.crt"
    echo "keyfile $dir/tls/server.key"
    echo "tls_version tlsv1.2"
  fi
  echo "include_dir $dir/conf.d"
} > "$dir/mosquitto.conf"
chmod 600 "$dir/mosquitto.conf"

if [[ "$foreground" == 1 ]]; then
  echo $$ > "$dir/mosquitto.pid"
  exec /usr/sbin/mosquitto -c "$dir/mosquitto.conf"
fi

/usr/sbin/mosquitto -c "$dir/mosquitto.conf" > "$dir/mosquitto.out" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$dir/mosquitto.pid"
host="$address"
[[ "$address" == *:* ]] && host="[$address]"
for _ in $(seq 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "hub-broker: mosquitto exited at start:" >&2
    cat "$dir/mosquitto.out" "$dir/mosquitto.log" >&2 2>/dev/null || true
    exit 1
  fi
  if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then
    echo "broker=$host:$port"
    [[ "$tls" == 1 ]] && echo "tls_broker=$host:$tls_port" && echo "ca_file=$dir/tls/ca.crt"
    echo "hub_password_file=$dir/password.hub"
    echo "conf_d=$dir/conf.d"
    for id in "${cameras[@]}"; do
      echo "camera_password_file.$id=$dir/password.$id"
    done
    echo "uri=mqtt://$host:$port/${cameras[0]:-CAMERA_ID}?password_file=$dir/password.hub"
    exit 0
  fi
  sleep 0.1
done
echo "hub-broker: mosquitto did not accept connections on $address:$port within 10 s; its log:" >&2
cat "$dir/mosquitto.log" >&2 2>/dev/null || true
kill -TERM "$pid" 2>/dev/null || true
exit 1
