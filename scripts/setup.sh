#!/usr/bin/env bash
# Installs what ICaaS needs on Debian 12 with Node 20, as root: the Debian tools the agent and the tests
# run for real, and the npm packages of the workspace. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_PACKAGES=(qemu-utils fdisk gdisk e2fsprogs xfsprogs btrfs-progs lvm2 postgresql chromium zip unzip xz-utils zstd bzip2 curl wrk
  qemu-system-x86 ovmf debootstrap openssh-client openssl grub-pc-bin grub-efi-amd64-bin dosfstools mtools)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # With recommends, as on the machines these tests were run on (chromium brings its fonts).
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
