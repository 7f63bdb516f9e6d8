# shellcheck shell=bash
# debian-disk.sh — builds bootable Debian 12 raw disks from Debian's packages, as root on a Debian 12
# host: debootstrap into a directory (cached), configure it, then write the disk file: ext4 with no
# loop device or mount (mkfs.ext4 -d at the partition's offset), XFS and btrfs through a loop device
# with an offset and a mount that is always undone, LVM metadata through a loop device in a private
# LVM_SYSTEM_DIR (no device-mapper: the LV's filesystem is written at its extents' offset); the
# partition table and its boot loaders are written per table (debian_disk_table_msdos / _gpt).
#
# Source it, then:
#   debian_disk_host_tools [boot]                # apt-get installs what is missing (boot: QEMU too)
#   debian_disk_rootfs DIR PKG...                # debootstrap bookworm (+PKGs), cached by package list
#   debian_disk_layout_packages                  # the packages the layout's guest needs (xfsprogs, …)
#   debian_disk_configure DIR HOSTNAME           # fstab, serial console, DHCP, GRUB config (per layout)
#   debian_disk_slim DIR                         # no docs, no apt lists or caches, fewer kernel modules
#   debian_disk_write DIR OUT.raw SIZE_MIB       # partition, filesystem, boot loader
#   debian_disk_chroot DIR CMD...                # runs CMD in DIR with /proc /sys /dev, always unmounted
#
# Environment: ICAAS_DEBOOTSTRAP_CACHE (default /var/cache/icaas/debootstrap), DEBIAN_MIRROR
# (default http://deb.debian.org/debian), DEBIAN_DISK_FS (the root filesystem: ext4, xfs, or btrfs
# with the root on subvolume @), DEBIAN_DISK_LVM (yes: partition 1 an ext4 /boot, partition 2 an LVM
# PV whose VG debian-vg holds the root LV, as Debian's installer lays it out), DEBIAN_DISK_TABLE
# (msdos: BIOS GRUB in the MBR; gpt: UEFI GRUB on an ESP plus BIOS GRUB in a BIOS boot partition, as
# Debian's cloud images), DEBIAN_DISK_NET (hotplug or auto: see debian_disk_network).
# debian_disk_check_layout says which combinations are written (gpt: ext4 without LVM so far).

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_DISK_CACHE=${ICAAS_DEBOOTSTRAP_CACHE:-/var/cache/icaas/debootstrap}
DEBIAN_DISK_FS=${DEBIAN_DISK_FS:-ext4}
DEBIAN_DISK_TABLE=${DEBIAN_DISK_TABLE:-msdos}
DEBIAN_DISK_LVM=${DEBIAN_DISK_LVM:-no}
# The LVM layout: Debian's installer names the VG after the host name ("debian-vg") and the LV "root".
DEBIAN_DISK_VG=debian-vg
DEBIAN_DISK_LV=root
DEBIAN_DISK_BOOT_MIB=256
# Bumped when what the cached rootfs holds changes for the same package list.
DEBIAN_DISK_CACHE_VERSION=1
# Where partition 1 starts: 1 MiB, as every partitioning tool does; GRUB's core.img lives before it.
DEBIAN_DISK_PART_START_MIB=1
# What every disk gets: an init, a kernel, and DHCP through ifupdown.
DEBIAN_DISK_BASE_PACKAGES=(systemd-sysv udev kmod linux-image-amd64 ifupdown isc-dhcp-client iproute2 netbase procps)

debian_disk_log() { printf '[debian-disk %s] %s\n' "$(date +%T)" "$*" >&2; }
debian_disk_die() {
  debian_disk_log "error: $*"
  exit 1
}

# Installs the host tools this library uses (Debian package names), only those missing; with
# `boot`, QEMU too (debian_disk_boot_check).
debian_disk_host_tools() {
  local -A need=([debootstrap]=debootstrap [mkfs.ext4]=e2fsprogs [sfdisk]=fdisk [qemu-img]=qemu-utils
    [grub-mkimage]=grub-common [zstd]=zstd [unshare]=util-linux [zip]=zip [jq]=jq
    [ssh-keygen]=openssh-client [sgdisk]=gdisk [mkfs.vfat]=dosfstools [mcopy]=mtools)
  local missing=() cmd
  for cmd in "${!need[@]}"; do command -v "$cmd" >/dev/null || missing+=("${need[$cmd]}"); done
  [ -f /usr/lib/grub/i386-pc/boot.img ] || missing+=(grub-pc-bin)
  [ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
  [ "${1:-}" != boot ] || [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
  [ "${1:-}" != boot ] || command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  if [ ${#missing[@]} -gt 0 ]; then
    debian_disk_log "installing host packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Runs CMD inside ROOT with /proc, /sys and /dev mounted in a private mount namespace: the mounts
# vanish with the namespace however CMD ends, so nothing stays mounted on the host.
debian_disk_chroot() {
  local root=$1
  shift
  unshare --mount --propagation private -- /bin/sh -ec '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"
  ' sh "$root" "$@"
}

# Fills the empty directory DIR with a minbase debootstrap of bookworm plus the base packages and
# PKGs. The result is cached as a tarball keyed by suite, mirror and the sorted package list.
debian_disk_rootfs() {
  local dir=$1
  shift
  local pkgs key tarball
  pkgs=$(printf '%s\n' "${DEBIAN_DISK_BASE_PACKAGES[@]}" "$@" | sort -u | paste -sd, -)
  key=$(printf '%s|%s|%s|%s' "$DEBIAN_DISK_CACHE_VERSION" "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$pkgs" |
    sha256sum | cut -c1-16)
  tarball="$DEBIAN_DISK_CACHE/$DEBIAN_SUITE-$key.tar.zst"
  mkdir -p "$DEBIAN_DISK_CACHE" "$dir"
  # One builder at a time per cache: a second waits, then finds the tarball.
  exec {lock}>"$DEBIAN_DISK_CACHE/.lock-$key"
  flock "$lock"
  if [ ! -f "$tarball" ]; then
    local work="$DEBIAN_DISK_CACHE/.work-$key" started=$SECONDS
    rm -rf "$work"
    debian_disk_log "debootstrap $DEBIAN_SUITE (minbase + $pkgs) from $DEBIAN_MIRROR"
    # debootstrap mounts /proc and /sys in the target itself: a private namespace drops them even if
    # it fails. A second try for a mirror's passing hiccup.
    local try
    for try in 1 2; do
      rm -rf "$work"
      unshare --mount --propagation private -- debootstrap --variant=minbase --include="$pkgs" \
        "$DEBIAN_SUITE" "$work" "$DEBIAN_MIRROR" >"$DEBIAN_DISK_CACHE/.log-$key" 2>&1 && break
      tail -n 30 "$DEBIAN_DISK_CACHE/.log-$key" >&2
      rm -rf "$work"
      [ "$try" = 1 ] || debian_disk_die "debootstrap failed (log: $DEBIAN_DISK_CACHE/.log-$key)"
      debian_disk_log "debootstrap failed; trying once more"
    done
    debian_disk_log "debootstrap took $((SECONDS - started)) s; caching $tarball"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$work" -cf - . | zstd -q -T0 -3 -o "$tarball.part"
    mv "$tarball.part" "$tarball"
    rm -rf "$work"
  else
    debian_disk_log "debootstrap cache hit: $tarball"
  fi
  flock -u "$lock"
  exec {lock}>&-
  zstd -q -dc "$tarball" | tar --numeric-owner --xattrs --xattrs-include='*' -C "$dir" -xf -
}

# The installed kernel's version (the newest, if several).
debian_disk_kernel_version() {
  find "$1/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1
}

# Configures DIR to boot from this disk's layout (DEBIAN_DISK_TABLE, DEBIAN_DISK_FS, DEBIAN_DISK_LVM):
# the filesystem UUIDs (chosen now, given to mkfs later), fstab, hostname, DHCP on the first NIC,
# consoles on tty0 and ttyS0, the kernel's symbolic links and the GRUB configuration.
debian_disk_configure() {
  local root=$1 hostname=$2 uuid boot_uuid="" kver
  uuid=$(cat /proc/sys/kernel/random/uuid)
  kver=$(debian_disk_kernel_version "$root")
  [ -n "$kver" ] || debian_disk_die "no kernel in $root/boot"
  echo "$uuid" >"$root/.debian-disk-uuid"
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    boot_uuid=$(cat /proc/sys/kernel/random/uuid)
    echo "$boot_uuid" >"$root/.debian-disk-boot-uuid"
  fi

  debian_disk_fstab "$uuid" "$boot_uuid" >"$root/etc/fstab"
  "debian_disk_configure_$DEBIAN_DISK_TABLE" "$root"
  echo "$hostname" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$hostname" >"$root/etc/hosts"

  debian_disk_network "$root" "${DEBIAN_DISK_NET:-hotplug}"

  # A login prompt on the serial console too (the getty generator adds it only for console= on the
  # command line, which image preparation may remove).
  mkdir -p "$root/etc/systemd/system/getty.target.wants"
  ln -sfn /lib/systemd/system/serial-getty@.service \
    "$root/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"

  debian_disk_kernel_links "$root" "$kver"
  local cmdline="console=tty0 console=ttyS0,115200"
  cat >"$root/etc/default/grub" <<EOF
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="$cmdline"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF
  # One grub.cfg for every GRUB platform the disk boots with: each loads its modules from its own
  # directory beside it.
  local platform
  for platform in $(debian_disk_grub_platforms); do
    mkdir -p "$root/boot/grub/$platform"
    cp /usr/lib/grub/"$platform"/*.mod /usr/lib/grub/"$platform"/*.lst "$root/boot/grub/$platform/"
  done
  debian_disk_grub_cfg "$uuid" "$boot_uuid" "$cmdline" >"$root/boot/grub/grub.cfg"
}

# The root filesystem's fstab, as Debian's installer writes it for the layout: by UUID (ext4
# errors=remount-ro, XFS, btrfs on subvolume @), on LVM by the LV's /dev/mapper name with /boot by UUID.
debian_disk_fstab() {
  local uuid=$1 boot_uuid=$2
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    printf '/dev/mapper/%s-%s / %s %s\n' "${DEBIAN_DISK_VG//-/--}" "$DEBIAN_DISK_LV" "$DEBIAN_DISK_FS" \
      "$(debian_disk_fstab_options)"
    printf 'UUID=%s /boot ext4 defaults 0 2\n' "$boot_uuid"
  else
    printf 'UUID=%s / %s %s\n' "$uuid" "$DEBIAN_DISK_FS" "$(debian_disk_fstab_options)"
  fi
}

# The root's mount options and fsck pass (fsck.xfs and fsck.btrfs do nothing at boot).
debian_disk_fstab_options() {
  case $DEBIAN_DISK_FS in
    ext4) echo 'errors=remount-ro 0 1' ;;
    xfs) echo 'defaults 0 0' ;;
    btrfs) echo 'defaults,subvol=@ 0 0' ;;
  esac
}

# The kernel and initrd symlinks follow kernel upgrades, so grub.cfg needs no regeneration. With a
# separate /boot (LVM) they live in /boot, where GRUB reads them (kernel-img.conf's link_in_boot
# keeps them there at upgrades).
debian_disk_kernel_links() {
  local root=$1 kver=$2
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    printf 'do_symlinks = yes\nlink_in_boot = yes\n' >"$root/etc/kernel-img.conf"
    ln -sfn "vmlinuz-$kver" "$root/boot/vmlinuz"
    ln -sfn "initrd.img-$kver" "$root/boot/initrd.img"
  else
    ln -sfn "boot/vmlinuz-$kver" "$root/vmlinuz"
    ln -sfn "boot/initrd.img-$kver" "$root/initrd.img"
  fi
}

# GRUB's module for the filesystem it loads the kernel from (/boot's: ext4 on LVM layouts).
debian_disk_grub_fs_module() {
  local fs=$DEBIAN_DISK_FS
  [ "$DEBIAN_DISK_LVM" != yes ] || fs=ext4
  case $fs in ext4) echo ext2 ;; *) echo "$fs" ;; esac
}

# Where GRUB finds the kernel's symbolic links, relative to the filesystem it searched for: the
# root's top (btrfs: its subvolume @), or /boot's top.
debian_disk_grub_path() {
  if [ "$DEBIAN_DISK_LVM" = yes ]; then echo ""; elif [ "$DEBIAN_DISK_FS" = btrfs ]; then echo /@; else echo ""; fi
}

# grub.cfg: find the filesystem holding the kernel by UUID, boot the root by UUID (LVM: by its
# /dev/mapper name, which the initramfs's lvm2 script activates; btrfs: rootflags=subvol=@).
debian_disk_grub_cfg() {
  local uuid=$1 boot_uuid=$2 cmdline=$3 search=$1 rootdev="UUID=$1" flags="" path
  path=$(debian_disk_grub_path)
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    search=$boot_uuid
    rootdev="/dev/mapper/${DEBIAN_DISK_VG//-/--}-$DEBIAN_DISK_LV"
  fi
  [ "$DEBIAN_DISK_FS" != btrfs ] || flags=" rootflags=subvol=@"
  cat <<EOF
set default=0
set timeout=1
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
insmod part_$DEBIAN_DISK_TABLE
insmod $(debian_disk_grub_fs_module)
insmod gzio
# A video mode for the kernel, as Debian's load_video: under UEFI there is no VGA text mode, so
# without it the kernel has no framebuffer and the screen stays blank.
insmod all_video
search --no-floppy --fs-uuid --set=root $search
menuentry 'Debian GNU/Linux 12' {
	linux $path/vmlinuz root=$rootdev ro$flags $cmdline
	initrd $path/initrd.img
}
EOF
}

# DHCP on the first NIC, whatever its name (en* with predictable names, eth* with net.ifnames=0 or
# old udev rules), through ifupdown; neither systemd-networkd nor netplan is involved. STYLE:
#   hotplug  as Debian's cloud images: a udev rule writes `allow-hotplug NIC` + `iface NIC inet dhcp`
#            into /run/network/interfaces.d for the first NIC to appear; ifupdown's own udev hook
#            then brings it up. network-online.target may come before the lease (as on those images).
#   auto     `auto /en*/1=dhcp /eth*/1=dhcp`: networking.service itself waits for the lease, so
#            network-online.target means a configured network. (ifupdown matches such patterns in
#            `auto` lines only: its hotplug hook asks `ifquery --allow hotplug -l NIC`, which never
#            matches a pattern.)
debian_disk_network() {
  local root=$1 style=$2
  mkdir -p "$root/etc/network/interfaces.d"
  {
    printf '# The loopback network interface\nauto lo\niface lo inet loopback\n\n'
    case $style in
      hotplug) printf '# The first NIC, configured when it appears (%s).\nsource /run/network/interfaces.d/*\n' \
        /etc/udev/rules.d/75-icaas-first-nic.rules ;;
      auto) printf '# DHCP on the first network interface, whatever its name.\nauto /en*/1=dhcp /eth*/1=dhcp\niface dhcp inet dhcp\n' ;;
      *) debian_disk_die "network style $style: use hotplug or auto" ;;
    esac
    printf '\nsource /etc/network/interfaces.d/*\n'
  } >"$root/etc/network/interfaces"
  [ "$style" = hotplug ] || return 0
  # Ordered before ifupdown's 80-ifupdown.rules, which runs `ifup` for allow-hotplug NICs.
  cat >"$root/etc/udev/rules.d/75-icaas-first-nic.rules" <<'EOF'
SUBSYSTEM=="net", ACTION=="add", KERNEL=="en*|eth*", RUN+="/usr/lib/icaas/first-nic-dhcp"
EOF
  mkdir -p "$root/usr/lib/icaas"
  cat >"$root/usr/lib/icaas/first-nic-dhcp" <<'EOF'
#!/bin/sh
# Run by udev for a new NIC: writes ifupdown's configuration for it (DHCP, allow-hotplug) unless
# another NIC has one. $INTERFACE is the NIC's final name (RUN programs run after renaming).
set -e
dir=/run/network/interfaces.d
mkdir -p "$dir"
for f in "$dir"/*; do [ -e "$f" ] && [ "$f" != "$dir/$INTERFACE" ] && exit 0; done
printf 'allow-hotplug %s\niface %s inet dhcp\n' "$INTERFACE" "$INTERFACE" >"$dir/$INTERFACE"
EOF
  chmod 0755 "$root/usr/lib/icaas/first-nic-dhcp"
}

# Makes DIR small: no documentation, manuals or foreign locales (now and for later installs), no
# apt lists or package caches, no kernel modules for hardware a VM never has.
debian_disk_slim() {
  local root=$1 kver
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-icaas-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root/var/cache/debconf/"*-old
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
  kver=$(debian_disk_kernel_version "$root")
  local mods="$root/lib/modules/$kver/kernel"
  rm -rf "$mods/drivers/gpu" "$mods/drivers/media" "$mods/drivers/net/wireless" "$mods/drivers/infiniband" \
    "$mods/drivers/staging" "$mods/drivers/bluetooth" "$mods/drivers/iio" "$mods/drivers/isdn" \
    "$mods/drivers/video/fbdev" "$mods/sound" "$mods/net/bluetooth" "$mods/net/wireless" "$mods/net/mac80211"
  debian_disk_chroot "$root" depmod -a "$kver"
  # The initrd was made with every module present; remake it so it does not carry the removed ones.
  debian_disk_chroot "$root" update-initramfs -u -k "$kver" >/dev/null
  rm -f "$root/boot/initrd.img-$kver.old-dkms"
}

# Fails unless DEBIAN_DISK_TABLE, DEBIAN_DISK_FS and DEBIAN_DISK_LVM name a layout this library can
# write (call it early: a build finds out before its minutes of work). gpt is written with ext4 and
# no LVM only: its GRUB images and partition numbers have not been made for the other layouts yet.
debian_disk_check_layout() {
  case $DEBIAN_DISK_TABLE in
    msdos | gpt) ;;
    *) debian_disk_die "partition table $DEBIAN_DISK_TABLE: not implemented (msdos or gpt)" ;;
  esac
  case $DEBIAN_DISK_FS in ext4 | xfs | btrfs) ;; *) debian_disk_die "filesystem $DEBIAN_DISK_FS: not implemented (ext4, xfs or btrfs)" ;; esac
  case $DEBIAN_DISK_LVM in yes | no) ;; *) debian_disk_die "DEBIAN_DISK_LVM=$DEBIAN_DISK_LVM: yes or no" ;; esac
  if [ "$DEBIAN_DISK_TABLE" = gpt ] && { [ "$DEBIAN_DISK_FS" != ext4 ] || [ "$DEBIAN_DISK_LVM" != no ]; }; then
    debian_disk_die "partition table gpt with $DEBIAN_DISK_FS$([ "$DEBIAN_DISK_LVM" = no ] || echo ' on LVM'): not implemented (gpt: ext4 without LVM; XFS, btrfs and LVM on msdos)"
  fi
}

# The packages the layout's guest needs besides the base: its filesystem's tools (fsck.xfs,
# btrfs for the initramfs), lvm2 (the initramfs activates the root LV).
debian_disk_layout_packages() {
  case $DEBIAN_DISK_FS in xfs) echo xfsprogs ;; btrfs) echo btrfs-progs ;; esac
  [ "$DEBIAN_DISK_LVM" != yes ] || echo lvm2
}

# Writes DIR as a raw disk OUT of SIZE_MIB MiB: DEBIAN_DISK_TABLE's layout (debian_disk_layout_*) says
# where the root's partition goes (on LVM: the PV's, after an ext4 /boot); the filesystems are
# written there from DIR (debian_disk_fill_*), then the table (debian_disk_table_*: after mke2fs,
# which zeroes sectors near the file's start and end, GPT's headers among them) and its boot loaders
# (debian_disk_boot_*). Each partition is recorded in DEBIAN_DISK_PARTITIONS_JSON. Only the blocks
# the files use are allocated.
debian_disk_write() {
  local root=$1 out=$2 size_mib=$3 uuid boot_uuid=""
  debian_disk_check_layout
  uuid=$(cat "$root/.debian-disk-uuid") || debian_disk_die "run debian_disk_configure first"
  [ "$DEBIAN_DISK_LVM" != yes ] || boot_uuid=$(cat "$root/.debian-disk-boot-uuid")
  rm -f "$root/.debian-disk-uuid" "$root/.debian-disk-boot-uuid" "$out"
  truncate -s "${size_mib}M" "$out"
  DEBIAN_DISK_PARTITIONS_JSON='[]'
  "debian_disk_layout_$DEBIAN_DISK_TABLE" "$size_mib"
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    debian_disk_fill_lvm "$root" "$out" "$uuid" "$boot_uuid"
  else
    debian_disk_fill_plain "$root" "$out" "$uuid"
  fi
  "debian_disk_table_$DEBIAN_DISK_TABLE" "$out"
  "debian_disk_boot_$DEBIAN_DISK_TABLE" "$root" "$out"
}

# The disk's partitions, recorded by debian_disk_write.
DEBIAN_DISK_PARTITIONS_JSON='[]'

# Appends a partition to DEBIAN_DISK_PARTITIONS_JSON: NUMBER START_BYTES SIZE_BYTES TYPE (root, boot,
# lvm-pv, efi, bios-boot) FSTYPE UUID LABEL MOUNTPOINT POPULATED_BY [EXTRA_JSON merged in]; empty
# strings are left out (a BIOS boot partition has no filesystem, a PV no mountpoint).
debian_disk_record_partition() {
  DEBIAN_DISK_PARTITIONS_JSON=$(jq -c --argjson number "$1" --argjson start "$2" --argjson size "$3" \
    --arg type "$4" --arg fsType "$5" --arg fsUuid "$6" --arg lbl "$7" --arg mountpoint "$8" \
    --arg populatedBy "$9" --argjson extra "${10:-null}" \
    '. + [({number: $number, startBytes: $start, sizeBytes: $size, type: $type, fsType: $fsType,
      fsUuid: $fsUuid, "label": $lbl, mountpoint: $mountpoint, populatedBy: $populatedBy}
      | with_entries(select(.value != ""))) + ($extra // {})]' <<<"$DEBIAN_DISK_PARTITIONS_JSON")
}

# The partitions' JSON for a manifest, in disk order: an array of {number, startBytes, sizeBytes,
# type, fsType, fsUuid, label, mountpoint, populatedBy} (+ subvolume on btrfs, lvm on a PV).
debian_disk_partitions_json() { jq -c 'sort_by(.startBytes)' <<<"$DEBIAN_DISK_PARTITIONS_JSON"; }

# The root filesystem in its partition (DEBIAN_DISK_ROOT_*).
debian_disk_fill_plain() {
  local root=$1 out=$2 uuid=$3
  local offset=$((DEBIAN_DISK_ROOT_START_MIB * 1048576)) bytes=$((DEBIAN_DISK_ROOT_MIB * 1048576)) extra='{}'
  debian_disk_mkfs "$DEBIAN_DISK_FS" "$root" "$out" "$offset" "$bytes" "$uuid" root
  [ "$DEBIAN_DISK_FS" != btrfs ] || extra='{"subvolume": "@"}'
  debian_disk_record_partition "$DEBIAN_DISK_ROOT_NUMBER" "$offset" "$bytes" root "$DEBIAN_DISK_FS" "$uuid" root / \
    "$(debian_disk_populated_by "$DEBIAN_DISK_FS")" "$extra"
}

# An ext4 /boot in its partition (DEBIAN_DISK_BOOT_*), and the root's partition (DEBIAN_DISK_ROOT_*)
# an LVM PV whose VG DEBIAN_DISK_VG holds one linear LV DEBIAN_DISK_LV over every extent: the root.
debian_disk_fill_lvm() {
  local root=$1 out=$2 uuid=$3 boot_uuid=$4 lv lv_offset lv_bytes boot_dir
  local boot_offset=$((DEBIAN_DISK_BOOT_START_MIB * 1048576)) boot_bytes=$((DEBIAN_DISK_BOOT_MIB * 1048576))
  local pv_offset=$((DEBIAN_DISK_ROOT_START_MIB * 1048576)) pv_bytes=$((DEBIAN_DISK_ROOT_MIB * 1048576))
  lv=$(debian_disk_lvm_create "$out" "$pv_offset" "$pv_bytes")
  read -r lv_offset lv_bytes <<<"$lv"
  # /boot goes to its partition; the root keeps an empty /boot to mount it on.
  boot_dir=$(mktemp -d /var/tmp/debian-disk-boot.XXXXXX)
  cp -a "$root/boot/." "$boot_dir/"
  find "$root/boot" -mindepth 1 -delete
  debian_disk_mkfs ext4 "$boot_dir" "$out" "$boot_offset" "$boot_bytes" "$boot_uuid" boot
  rm -rf "$boot_dir"
  debian_disk_mkfs "$DEBIAN_DISK_FS" "$root" "$out" "$lv_offset" "$lv_bytes" "$uuid" root
  debian_disk_record_partition "$DEBIAN_DISK_BOOT_NUMBER" "$boot_offset" "$boot_bytes" boot ext4 "$boot_uuid" \
    boot /boot "mkfs.ext4 -d"
  debian_disk_record_partition "$DEBIAN_DISK_ROOT_NUMBER" "$pv_offset" "$pv_bytes" lvm-pv LVM2_member "" "" "" \
    "pvcreate, vgcfgrestore" \
    "$(jq -cn --arg vg "$DEBIAN_DISK_VG" --arg lv "$DEBIAN_DISK_LV" --arg fs "$DEBIAN_DISK_FS" --arg uuid "$uuid" \
      --argjson offset "$lv_offset" --argjson bytes "$lv_bytes" --arg by "$(debian_disk_populated_by "$DEBIAN_DISK_FS")" \
      '{lvm: {vg: $vg, volumes: [{name: $lv, startBytes: $offset, sizeBytes: $bytes, fsType: $fs, fsUuid: $uuid,
        "label": "root", mountpoint: "/", populatedBy: $by}]}}')"
}

debian_disk_populated_by() {
  case $1 in ext4) echo "mkfs.ext4 -d" ;; *) echo "mkfs.$1, cp -a on a loop mount" ;; esac
}

# Makes a filesystem FS (ext4, xfs, btrfs) with UUID and LABEL over [OFFSET, OFFSET+BYTES) of the disk
# file OUT, holding the tree DIR. btrfs: the tree goes into subvolume @ (as Ubuntu's installer does).
debian_disk_mkfs() {
  local fs=$1 dir=$2 out=$3 offset=$4 bytes=$5 uuid=$6 label=$7
  case $fs in
    # mke2fs writes straight into the disk file at the offset, populated from DIR: no loop device.
    ext4) mkfs.ext4 -q -F -L "$label" -U "$uuid" -d "$dir" -E "offset=$offset" "$out" "$((bytes / 1024))k" ;;
    xfs | btrfs) debian_disk_mkfs_mounted "$@" ;;
    *) debian_disk_die "filesystem $fs: not implemented" ;;
  esac
}

# XFS and btrfs have no offset option and (in Debian 12's tools) no way to fill a subvolume from a
# directory: a loop device over the range, mkfs, a mount, cp -a. A subshell whose EXIT trap always
# unmounts and detaches, however it ends.
debian_disk_mkfs_mounted() (
  set -euo pipefail
  fs=$1 dir=$2 out=$3 offset=$4 bytes=$5 uuid=$6 label=$7 loop=""
  mnt=$(mktemp -d /var/tmp/debian-disk-mnt.XXXXXX)
  trap 'set +e; mountpoint -q "$mnt" && umount "$mnt"; [ -z "$loop" ] || losetup -d "$loop"; rmdir "$mnt"' EXIT
  loop=$(losetup --find --show --offset "$offset" --sizelimit "$bytes" "$out")
  case $fs in
    xfs) mkfs.xfs -q -f -K -m "uuid=$uuid" -L "$label" "$loop" ;;
    btrfs) mkfs.btrfs -q -f -K -U "$uuid" -L "$label" "$loop" >/dev/null ;;
  esac
  mount -t "$fs" "$loop" "$mnt"
  target=$mnt
  if [ "$fs" = btrfs ]; then
    btrfs subvolume create "$mnt/@" >/dev/null
    target=$mnt/@
  fi
  cp -a "$dir/." "$target/"
  umount "$mnt"
)

# Makes [OFFSET, OFFSET+BYTES) of OUT an LVM PV with VG DEBIAN_DISK_VG (4 MiB extents) and one linear
# LV DEBIAN_DISK_LV over all its extents, without device-mapper: pvcreate and vgcreate through a loop
# device, seen only by a private LVM_SYSTEM_DIR (nothing of the host's LVM reads or records it), then
# the LV written into the metadata with vgcfgrestore. Prints the LV's "OFFSET BYTES" in OUT.
debian_disk_lvm_create() (
  set -euo pipefail
  out=$1 offset=$2 bytes=$3 loop=""
  conf=$(mktemp -d /var/tmp/debian-disk-lvm.XXXXXX)
  trap 'set +e; [ -z "$loop" ] || losetup -d "$loop"; rm -rf "$conf"' EXIT
  loop=$(losetup --find --show --offset "$offset" --sizelimit "$bytes" "$out")
  cat >"$conf/lvm.conf" <<EOF
devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 filter = [ "a|^$loop\$|", "r|.*|" ] }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
global { event_activation = 0 }
EOF
  export LVM_SYSTEM_DIR=$conf LVM_SUPPRESS_FD_WARNINGS=1
  pvcreate -q "$loop" >&2
  vgcreate -q -s 4m "$DEBIAN_DISK_VG" "$loop" >&2
  pe_start=$(pvs --noheadings -o pe_start --units b --nosuffix "$loop" | tr -d ' ')
  extents=$(vgs --noheadings -o vg_extent_count "$DEBIAN_DISK_VG" | tr -d ' ')
  vgcfgbackup -q -f "$conf/vg.txt" "$DEBIAN_DISK_VG" >&2
  # An LVM id: 32 characters of its alphabet, grouped 6-4-4-4-4-4-6.
  lv_id=$(head -c 4096 /dev/urandom | tr -dc 'A-Za-z0-9' | cut -c1-32 | sed -E 's/^(.{6})(.{4})(.{4})(.{4})(.{4})(.{4})(.{6})$/\1-\2-\3-\4-\5-\6-\7/')
  # The backup ends with the VG's closing brace: the volume goes just before it.
  head -n -1 "$conf/vg.txt" >"$conf/vg-lv.txt"
  cat >>"$conf/vg-lv.txt" <<EOF
logical_volumes {
$DEBIAN_DISK_LV {
id = "$lv_id"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = $(date +%s)
creation_host = "debian"
segment_count = 1
segment1 {
start_extent = 0
extent_count = $extents
type = "striped"
stripe_count = 1
stripes = [
"pv0", 0
]
}
}
}
}
EOF
  # Metadata only; without device-mapper it warns that it cannot check for active volumes.
  vgcfgrestore -q -f "$conf/vg-lv.txt" "$DEBIAN_DISK_VG" >&2
  echo "$((offset + pe_start)) $((extents * 4 * 1048576))"
)

# Where GRUB's modules and grub.cfg are on the filesystem it searches for (/boot's on LVM layouts).
debian_disk_grub_prefix() {
  if [ "$DEBIAN_DISK_LVM" = yes ]; then echo /grub; else echo "$(debian_disk_grub_path)/boot/grub"; fi
}

# The GRUB platforms the table's boot loaders use.
debian_disk_grub_platforms() {
  case $DEBIAN_DISK_TABLE in
    gpt) echo i386-pc x86_64-efi ;;
    *) echo i386-pc ;;
  esac
}

# --- msdos: one primary partition from 1 MiB (on LVM layouts: partition 1 an ext4 /boot of
# DEBIAN_DISK_BOOT_MIB, partition 2 the PV to the end), GRUB for BIOS in the MBR and the gap before it.

debian_disk_configure_msdos() { :; }

debian_disk_layout_msdos() {
  local size_mib=$1
  DEBIAN_DISK_ROOT_NUMBER=1
  DEBIAN_DISK_ROOT_START_MIB=$DEBIAN_DISK_PART_START_MIB
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    DEBIAN_DISK_BOOT_NUMBER=1
    DEBIAN_DISK_BOOT_START_MIB=$DEBIAN_DISK_PART_START_MIB
    DEBIAN_DISK_ROOT_NUMBER=2
    DEBIAN_DISK_ROOT_START_MIB=$((DEBIAN_DISK_PART_START_MIB + DEBIAN_DISK_BOOT_MIB))
  fi
  DEBIAN_DISK_ROOT_MIB=$((size_mib - DEBIAN_DISK_ROOT_START_MIB))
  DEBIAN_DISK_BOOTLOADER="grub-pc (MBR)"
}

debian_disk_table_msdos() {
  if [ "$DEBIAN_DISK_LVM" = yes ]; then
    printf 'label: dos\nstart=%sMiB, size=%sMiB, type=83, bootable\nstart=%sMiB, type=8e\n' \
      "$DEBIAN_DISK_BOOT_START_MIB" "$DEBIAN_DISK_BOOT_MIB" "$DEBIAN_DISK_ROOT_START_MIB" | sfdisk -q "$1"
  else
    printf 'label: dos\nstart=%sMiB, type=83, bootable\n' "$DEBIAN_DISK_PART_START_MIB" | sfdisk -q "$1"
  fi
}

# GRUB for BIOS without grub-install (which needs partition block devices): boot.img in the MBR's
# first 440 bytes (its defaults load core.img from sector 1), core.img in the gap before partition 1
# (grub-mkimage fills in its own length), modules and grub.cfg already in debian_disk_grub_prefix of
# partition 1.
debian_disk_boot_msdos() {
  local out=$2 core
  core=$(mktemp)
  grub-mkimage -O i386-pc -o "$core" -p "(hd0,msdos1)$(debian_disk_grub_prefix)" biosdisk part_msdos \
    "$(debian_disk_grub_fs_module)"
  [ "$(stat -c %s "$core")" -lt $((DEBIAN_DISK_PART_START_MIB * 1048576 - 512)) ] ||
    debian_disk_die "GRUB core.img does not fit before partition 1"
  dd if=/usr/lib/grub/i386-pc/boot.img of="$out" bs=440 count=1 conv=notrunc status=none
  dd if="$core" of="$out" bs=512 seek=1 conv=notrunc status=none
  rm -f "$core"
}

# --- gpt: Debian's cloud image layout. Partition 14 is a BIOS boot partition (1-4 MiB, GRUB's
# core.img for BIOS), 15 the EFI system partition (4-128 MiB, FAT, mounted on /boot/efi), 1 the root
# filesystem from 128 MiB to 1 MiB before the end (so it is last on disk: the one a deployment
# grows). Both firmwares boot it, as those images: UEFI through GRUB at the removable path
# EFI/BOOT/BOOTX64.EFI (a new VM's NVRAM has no boot entry), BIOS through the protective MBR.
DEBIAN_DISK_GPT_BIOS=(14 1 4)
DEBIAN_DISK_GPT_ESP=(15 4 128)
# The UEFI spec's "Linux root (x86-64)" type, as Debian's cloud images mark partition 1.
DEBIAN_DISK_GPT_ROOT_TYPE=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709

# The ESP's FAT volume id, chosen now so fstab can name it (UUID=XXXX-XXXX).
debian_disk_configure_gpt() {
  local root=$1 id
  id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
  echo "$id" >"$root/.debian-disk-esp-id"
  mkdir -p "$root/boot/efi"
  printf 'UUID=%s-%s /boot/efi vfat umask=0077 0 1\n' "${id:0:4}" "${id:4:4}" >>"$root/etc/fstab"
}

debian_disk_layout_gpt() {
  local size_mib=$1
  DEBIAN_DISK_ROOT_NUMBER=1
  DEBIAN_DISK_ROOT_START_MIB=${DEBIAN_DISK_GPT_ESP[2]}
  # The last MiB keeps the backup GPT (33 sectors) and alignment.
  DEBIAN_DISK_ROOT_MIB=$((size_mib - DEBIAN_DISK_ROOT_START_MIB - 1))
  DEBIAN_DISK_BOOTLOADER="grub-efi-amd64 (ESP, EFI/BOOT/BOOTX64.EFI) + grub-pc (BIOS boot partition)"
}

debian_disk_table_gpt() {
  local out=$1
  local -n bios=DEBIAN_DISK_GPT_BIOS esp=DEBIAN_DISK_GPT_ESP
  sgdisk -o \
    -n "${bios[0]}:${bios[1]}M:$((bios[2] * 2048 - 1))" -t "${bios[0]}:EF02" \
    -n "${esp[0]}:${esp[1]}M:$((esp[2] * 2048 - 1))" -t "${esp[0]}:EF00" \
    -n "1:${esp[2]}M:$(((esp[2] + DEBIAN_DISK_ROOT_MIB) * 2048 - 1))" -t "1:$DEBIAN_DISK_GPT_ROOT_TYPE" \
    "$out" >/dev/null
  sgdisk -v "$out" | grep -q 'No problems found' || debian_disk_die "the GPT does not verify"
}

# Both boot loaders, without grub-install: GRUB for UEFI on the ESP, GRUB for BIOS in the protective
# MBR and the BIOS boot partition. Each finds the root filesystem by UUID and reads /boot/grub/grub.cfg.
debian_disk_boot_gpt() {
  local root=$1 out=$2 uuid
  uuid=$(sed -n 's/^UUID=\([^ ]*\) \/ .*/\1/p' "$root/etc/fstab")
  debian_disk_esp "$root" "$out" "$uuid"
  debian_disk_gpt_bios_grub "$out" "$uuid"
  rm -f "$root/.debian-disk-esp-id"
}

# An early config for a GRUB image, as grub-install embeds one: the root filesystem by UUID as
# $root and $prefix; GRUB then loads normal.mod from $prefix/<platform> and reads $prefix/grub.cfg.
debian_disk_grub_early_config() {
  printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)%s\n' "$1" "$(debian_disk_grub_prefix)"
}

# The ESP: a FAT filesystem made in a file (mkfs.vfat, mtools: no mount) with GRUB for x86_64-efi at
# the removable path, copied into partition 15.
debian_disk_esp() {
  local root=$1 out=$2 uuid=$3 dir id
  local -n esp=DEBIAN_DISK_GPT_ESP
  id=$(cat "$root/.debian-disk-esp-id")
  dir=$(mktemp -d)
  debian_disk_grub_early_config "$uuid" >"$dir/early.cfg"
  grub-mkimage -O x86_64-efi -o "$dir/BOOTX64.EFI" -c "$dir/early.cfg" -p /boot/grub \
    part_gpt "$(debian_disk_grub_fs_module)" search search_fs_uuid
  truncate -s "$(((esp[2] - esp[1]) * 1048576))" "$dir/esp.img"
  mkfs.vfat -F 32 -i "$id" -n EFI "$dir/esp.img" >/dev/null
  MTOOLS_SKIP_CHECK=1 mmd -i "$dir/esp.img" ::/EFI ::/EFI/BOOT
  MTOOLS_SKIP_CHECK=1 mcopy -i "$dir/esp.img" "$dir/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
  dd if="$dir/esp.img" of="$out" bs=1M seek="${esp[1]}" conv=notrunc,sparse status=none
  rm -rf "$dir"
  debian_disk_record_partition "${esp[0]}" $((esp[1] * 1048576)) $(((esp[2] - esp[1]) * 1048576)) efi vfat \
    "${id:0:4}-${id:4:4}" EFI /boot/efi "mkfs.vfat + mcopy"
}

# GRUB for BIOS on GPT: boot.img in the protective MBR and core.img in the BIOS boot partition, with
# the two sector numbers grub-bios-setup would patch: where boot.img loads core.img's first sector
# from (GRUB_BOOT_MACHINE_KERNEL_SECTOR, 0x5c) and where that sector loads the rest from (the
# blocklist at 0x1f4 of diskboot.img; grub-mkimage has filled in its length).
debian_disk_gpt_bios_grub() {
  local out=$1 uuid=$2 dir sector
  local -n bios=DEBIAN_DISK_GPT_BIOS
  dir=$(mktemp -d)
  sector=$((bios[1] * 2048))
  debian_disk_grub_early_config "$uuid" >"$dir/early.cfg"
  grub-mkimage -O i386-pc -o "$dir/core.img" -c "$dir/early.cfg" -p /boot/grub \
    biosdisk part_gpt "$(debian_disk_grub_fs_module)" search search_fs_uuid
  [ "$(stat -c %s "$dir/core.img")" -le $(((bios[2] - bios[1]) * 1048576)) ] ||
    debian_disk_die "GRUB core.img does not fit the BIOS boot partition"
  debian_disk_le64 $((sector + 1)) | dd of="$dir/core.img" bs=1 seek=$((0x1f4)) conv=notrunc status=none
  dd if="$dir/core.img" of="$out" bs=512 seek="$sector" conv=notrunc status=none
  cp /usr/lib/grub/i386-pc/boot.img "$dir/boot.img"
  debian_disk_le64 "$sector" | dd of="$dir/boot.img" bs=1 seek=$((0x5c)) conv=notrunc status=none
  # Only the code: the protective MBR's partition entry and signature stay.
  dd if="$dir/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
  rm -rf "$dir"
  debian_disk_record_partition "${bios[0]}" $((bios[1] * 1048576)) $(((bios[2] - bios[1]) * 1048576)) bios-boot \
    "" "" "" "" "grub-mkimage -O i386-pc"
}

# NUMBER as 8 little-endian bytes.
debian_disk_le64() {
  local n=$1 i
  for ((i = 0; i < 8; i++)); do printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"; done
}

# Allocated size of FILE in MiB (what a sparse raw disk really takes).
debian_disk_allocated_mib() { echo $(($(stat -c '%b * %B' "$1") / 1048576)); }

# Boots DISK (FORMAT raw, vmdk, ...) under QEMU with TCG, as a cloud would (virtio disk and NIC,
# DHCP from user networking), without writing to it, until the serial console (copied to LOG) shows
# a login prompt; fails after TIMEOUT seconds. FIRMWARE is bios (SeaBIOS, the default) or uefi
# (Debian's OVMF, with a throwaway copy of its variable store). QEMU is always killed. Prints the
# seconds it took.
debian_disk_boot_check() {
  local disk=$1 format=$2 timeout=$3 log=$4 firmware=${5:-bios}
  (
    : >"$log"
    firmware_args=()
    vars=
    if [ "$firmware" = uefi ]; then
      vars=$(mktemp)
      cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
      firmware_args=(-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
        -drive "if=pflash,format=raw,unit=1,file=$vars")
    fi
    qemu-system-x86_64 -accel tcg -m 1024 -display none -monitor none -serial "file:$log" \
      "${firmware_args[@]}" -drive "file=$disk,if=virtio,format=$format,snapshot=on" \
      -netdev user,id=n0 -device virtio-net-pci,netdev=n0 &
    qemu=$!
    trap 'kill "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null; [ -z "$vars" ] || rm -f "$vars"' EXIT
    start=$SECONDS
    while ! grep -q 'login:' "$log"; do
      kill -0 "$qemu" 2>/dev/null || { debian_disk_log "QEMU exited before a login prompt"; exit 1; }
      [ $((SECONDS - start)) -lt "$timeout" ] || { debian_disk_log "no login prompt after $timeout s"; exit 1; }
      sleep 1
    done
    debian_disk_log "login prompt on the serial console after $((SECONDS - start)) s ($firmware)"
    echo $((SECONDS - start))
  )
}
