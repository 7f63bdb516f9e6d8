#!/usr/bin/env bash
# Builds the ICaaS agent VM image: a raw diskdump of Debian 12 from Debian's packages, with the
# agent bundle and its systemd unit, cleaned for publishing. See deploy/agent-image/README.md.
#
#   bash deploy/agent-image/build.sh [--boot-check] OUT.raw
#
# Run as root on Debian 12, from a checkout of this repository (the agent bundle is built from it).
# Writes OUT.raw and OUT.packages.txt (the installed packages); prints the allocated size.
# --boot-check then runs check.sh: a copy boots under QEMU (TCG) to a login prompt on the serial
# console and its agent asks for its manifest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/lib/debian-disk.sh
source "$repo/scripts/lib/debian-disk.sh"

boot_check=no
if [ "${1:-}" = --boot-check ]; then
  boot_check=yes
  shift
fi
[ $# -eq 1 ] || debian_disk_die "usage: build.sh [--boot-check] OUT.raw"
[ "$(id -u)" = 0 ] || debian_disk_die "run as root"
out=$(realpath -m "$1")
mkdir -p "$(dirname "$out")"

DISK_MIB=${ICAAS_AGENT_IMAGE_MIB:-2048}
# What the agent runs (docs/agent.md): Node for the bundle, qemu-img, the partition and ext tools,
# the decompressors, CA certificates for HTTPS.
# xfsprogs, btrfs-progs and lvm2: imageprep's mount backend prepares XFS, btrfs and LVM guests.
AGENT_PACKAGES=(nodejs qemu-utils fdisk gdisk e2fsprogs util-linux xfsprogs btrfs-progs lvm2 xz-utils bzip2 zstd gzip ca-certificates)
started=$SECONDS

debian_disk_host_tools "$([ "$boot_check" = yes ] && echo boot)"
command -v npm >/dev/null || debian_disk_die "npm is needed to build the agent bundle (Node ≥ 20.19)"
if [ ! -d "$repo/node_modules" ]; then
  debian_disk_log "npm ci (the bundle is built from this checkout)"
  (cd "$repo" && npm ci --no-audit --no-fund >/dev/null)
fi
(cd "$repo" && npm run -s build -w packages/agent >/dev/null)
bundle="$repo/packages/agent/dist/icaas-agent.mjs"
[ -s "$bundle" ] || debian_disk_die "the agent bundle $bundle was not built"

work=$(mktemp -d /var/tmp/icaas-agent-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
debian_disk_rootfs "$root" "${AGENT_PACKAGES[@]}"
# `auto`: networking.service waits for the DHCP lease, so the agent (After=network-online.target)
# starts with a network.
DEBIAN_DISK_NET=auto debian_disk_configure "$root" icaas-agent

install -D -m 0755 "$bundle" "$root/usr/lib/icaas-agent/icaas-agent.mjs"
install -D -m 0644 "$repo/deploy/icaas-agent.service" "$root/etc/systemd/system/icaas-agent.service"
debian_disk_chroot "$root" systemctl enable icaas-agent.service 2>/dev/null
[ -L "$root/etc/systemd/system/multi-user.target.wants/icaas-agent.service" ] ||
  debian_disk_die "icaas-agent.service is not enabled"
# Guests' LVM volume groups are read through a private LVM environment and never activated here:
# without this, udev's 69-lvm.rules would auto-activate a guest's VG as soon as a loop device over its
# PV appears, and its volumes would be in use while imageprep moves their bytes.
cat >"$root/etc/lvm/lvmlocal.conf" <<'LVM'
global {
	event_activation = 0
}
activation {
	auto_activation_volume_list = []
}
LVM
[ "$(debian_disk_chroot "$root" lvmconfig --type full global/event_activation)" = "event_activation=0" ] ||
  debian_disk_die "lvm.conf: event activation is still on"
node_version=$(debian_disk_chroot "$root" node --version)
debian_disk_chroot "$root" node /usr/lib/icaas-agent/icaas-agent.mjs --help >/dev/null ||
  debian_disk_die "the image's node ($node_version) does not run the agent bundle"

debian_disk_slim "$root"
debian_disk_chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"${out%.raw}.packages.txt"
# Clean for publishing: every VM gets its own identity, nothing of the build machine stays. The
# service injects /etc/icaas/manifest.cfg and /.icaas into each VM.
rm -f "$root"/etc/ssh/ssh_host_* "$root/var/lib/dbus/machine-id" "$root/etc/icaas/manifest.cfg" "$root/.icaas"
: >"$root/etc/machine-id"
rm -rf "$root"/tmp/* "$root"/var/tmp/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
find "$root/var/log" -type f -exec truncate -s 0 {} +
rm -f "$root"/root/.bash_history "$root/etc/shadow-" "$root/etc/gshadow-" "$root/etc/passwd-" "$root/etc/group-"

kernel=$(debian_disk_kernel_version "$root")
debian_disk_write "$root" "$out" "$DISK_MIB"

# Boots a copy with a manifest: a login prompt and the agent asking for its manifest.
[ "$boot_check" = no ] || bash "$here/check.sh" "$out"

debian_disk_log "built in $((SECONDS - started)) s"
echo "image:     $out"
echo "size:      ${DISK_MIB} MiB (virtual), $(debian_disk_allocated_mib "$out") MiB allocated"
echo "kernel:    $kernel; node $node_version"
echo "packages:  $(wc -l <"${out%.raw}.packages.txt") (${out%.raw}.packages.txt)"
cut -d' ' -f1 "${out%.raw}.packages.txt" | paste -sd' ' - | fold -s -w 100 | sed 's/^/  /'
