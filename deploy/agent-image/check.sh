#!/usr/bin/env bash
# Proves an agent image works: boots a copy of it under QEMU (TCG, virtio disk and NIC, user
# networking) with the two personality files Cyclades would write (/.icaas and
# /etc/icaas/manifest.cfg pointing at a listener on this host's loopback, 10.0.2.2 in the guest),
# and waits until both the serial console shows a login prompt and the agent has asked the listener
# for its manifest (so the unit is enabled, starts after the network, and Debian's node runs the
# bundle). The listener answers 404: the agent then exits 3, as with a spent manifest URL.
#
#   bash deploy/agent-image/check.sh IMAGE.raw [TIMEOUT_SECONDS]
#
# Needs root only for nothing (debugfs edits a copy); needs qemu-system-x86_64, debugfs and node.
# The copy is made under $TMPDIR (default /var/tmp); the console is kept as IMAGE.check.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib/debian-disk.sh
source "$here/../../scripts/lib/debian-disk.sh"

[ $# -ge 1 ] || debian_disk_die "usage: check.sh IMAGE.raw [TIMEOUT_SECONDS]"
image=$1
timeout=${2:-400}
offset=$((DEBIAN_DISK_PART_START_MIB * 1048576))
work=$(mktemp -d "${TMPDIR:-/var/tmp}/icaas-agent-check.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The listener: records each request's path, answers 404.
node -e '
  const http = require("node:http"), fs = require("node:fs");
  const [log, portFile] = process.argv.slice(1);
  const server = http.createServer((req, res) => {
    fs.appendFileSync(log, `${req.method} ${req.url}\n`);
    res.writeHead(404, { "content-type": "application/json" }).end("{\"code\":\"not_found\"}");
  });
  server.listen(0, "127.0.0.1", () => fs.writeFileSync(portFile, String(server.address().port)));
' "$work/requests.log" "$work/port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
touch "$work/requests.log"

cp --sparse=always "$image" "$work/vm.raw"
printf '[manifest]\nurl = http://10.0.2.2:%s/builds/agent/check/nonce\n' "$port" >"$work/manifest.cfg"
: >"$work/marker"
debugfs -w -f - "$work/vm.raw?offset=$offset" >/dev/null 2>&1 <<EOF
mkdir /etc/icaas
write $work/manifest.cfg /etc/icaas/manifest.cfg
write $work/marker /.icaas
set_inode_field /etc/icaas/manifest.cfg mode 0100600
set_inode_field /.icaas mode 0100600
EOF
debugfs -R "stat /.icaas" "$work/vm.raw?offset=$offset" 2>/dev/null | grep -q "Mode:  0600" ||
  debian_disk_die "could not write the personality files into the copy"

console="${image%.raw}.check.log"
: >"$console"
started=$SECONDS
qemu-system-x86_64 -accel tcg -m 1024 -display none -monitor none -serial "file:$console" \
  -drive "file=$work/vm.raw,if=virtio,format=raw" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 &
pids+=($!)
qemu=$!
login="" manifest=""
while [ -z "$login" ] || [ -z "$manifest" ]; do
  [ -n "$login" ] || ! grep -q 'login:' "$console" || login=$((SECONDS - started))
  [ -n "$manifest" ] || ! grep -q "^GET /builds/agent/check/nonce" "$work/requests.log" ||
    manifest=$((SECONDS - started))
  kill -0 "$qemu" 2>/dev/null || debian_disk_die "QEMU exited (console: $console)"
  [ $((SECONDS - started)) -lt "$timeout" ] ||
    debian_disk_die "after ${timeout} s: login prompt ${login:-never}, manifest fetched ${manifest:-never} (console: $console)"
  sleep 1
done
debian_disk_log "login prompt after ${login} s; the agent fetched its manifest after ${manifest} s"
