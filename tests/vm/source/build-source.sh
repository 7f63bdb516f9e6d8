#!/usr/bin/env bash
# Builds the bootable, Bitnami-like Debian 12 test source: OUT.zip (a Bitnami-style zip holding
# NAME/NAME.vmdk, streamOptimized, with NAME.ovf and NAME.mf) and OUT.manifest.json beside it,
# which names every secret that image preparation must remove (marker strings, host private keys,
# the password hash) so a test can search the published image for them. See tests/vm/README.md.
#
#   bash tests/vm/source/build-source.sh [--boot-check] [--fs ext4|xfs|btrfs] [--lvm] [--table msdos|gpt] OUT.zip
#
# --fs is the root filesystem (btrfs: the root on subvolume @); --lvm puts it in an LVM volume with
# /boot on an ext4 partition of its own (Debian's installer's "guided, use LVM"); --table gpt is
# Debian's cloud layout (ESP + BIOS boot partition; ext4 without LVM only).
#
# Run as root on Debian 12. --boot-check boots the raw disk under QEMU (TCG) until the serial
# console shows a login prompt (its console is kept as OUT.boot.log; a gpt disk boots with SeaBIOS
# and with OVMF, the second console kept as OUT.boot-uefi.log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../scripts/lib/debian-disk.sh
source "$here/../../../scripts/lib/debian-disk.sh"

usage="usage: build-source.sh [--boot-check] [--fs ext4|xfs|btrfs] [--lvm] [--table msdos|gpt] OUT.zip"
boot_check=no
while [ $# -gt 1 ]; do
  case $1 in
    --boot-check) boot_check=yes ;;
    # The layout variant (the library refuses those it cannot write).
    --fs) DEBIAN_DISK_FS=${2:?$usage} && shift ;;
    --lvm) DEBIAN_DISK_LVM=yes ;;
    --table) DEBIAN_DISK_TABLE=${2:?$usage} && shift ;;
    *) debian_disk_die "$usage" ;;
  esac
  shift
done
[ $# -eq 1 ] && [[ $1 == *.zip ]] || debian_disk_die "$usage"
debian_disk_check_layout
[ "$(id -u)" = 0 ] || debian_disk_die "run as root"
out_zip=$(realpath -m "$1")
out_manifest="${out_zip%.zip}.manifest.json"
mkdir -p "$(dirname "$out_zip")"

NAME=bitnami-icaastest-1.0.0-0-linux-debian-12-x86_64
HOSTNAME=debian
DISK_MIB=1536
BITNAMI_PASSWORD=bitnami-icaas-test
# Not the QEMU default (52:54:00:12:34:56): the source was "built" on another hypervisor.
SOURCE_MAC=00:0c:29:5a:1e:c0
started=$SECONDS

# A minimal OVF 1.0 descriptor for the VMDK, as Bitnami's zips carry one (1 CPU, 1 GiB, one disk).
source_ovf() {
  local name=$1 vmdk=$2 vmdk_bytes=$3 disk_mib=$4
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="$vmdk" ovf:size="$vmdk_bytes"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="$disk_mib" ovf:capacityAllocationUnits="byte * 2^20"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="$name"><Info>A virtual machine</Info><Name>$name</Name>
    <OperatingSystemSection ovf:id="96"><Info>The operating system</Info><Description>Debian GNU/Linux 12 (64-bit)</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <Item><rasd:ElementName>1 virtual CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>1024MB of memory</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>disk0</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}

debian_disk_host_tools "$([ "$boot_check" = yes ] && echo boot)"
work=$(mktemp -d /var/tmp/icaas-source.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"

# shellcheck disable=SC2046 # one package name per word
debian_disk_rootfs "$root" openssh-server sudo $(debian_disk_layout_packages)
debian_disk_configure "$root" "$HOSTNAME"

marker() { echo "ICAAS-SECRET-MARKER-$1"; }
markers_json="$work/markers.jsonl"
# Writes CONTENT to PATH (in the image) and records the marker it carries.
secret_file() {
  local name=$1 path=$2 owner=$3 mode=$4 content=$5
  mkdir -p "$(dirname "$root$path")"
  printf '%s' "$content" >"$root$path"
  chroot "$root" chown "$owner" "$path"
  chmod "$mode" "$root$path"
  grep -q "$(marker "$name")" "$root$path" || debian_disk_die "secret $path lacks its marker"
  jq -cn --arg name "$name" --arg marker "$(marker "$name")" --arg path "$path" \
    '{name: $name, marker: $marker, path: $path}' >>"$markers_json"
}
# LINES lines that each carry the marker: enough to fill several filesystem blocks.
marker_lines() {
  local name=$1 lines=$2 i
  for ((i = 1; i <= lines; i++)); do
    printf 'Dec  1 10:%02d:%02d debian sshd[%d]: Accepted password for bitnami from 10.0.2.2 port %d ssh2 %s\n' \
      $((i / 60 % 60)) $((i % 60)) $((1000 + i)) $((40000 + i)) "$(marker "$name")"
  done
}

# The Bitnami user, as Bitnami's Debian stacks have it: a password, sudo, SSH keys, a history.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo bitnami
echo "bitnami:$BITNAMI_PASSWORD" | chroot "$root" chpasswd
password_hash=$(awk -F: '$1 == "bitnami" { print $2 }' "$root/etc/shadow")
bitnami_uid=$(chroot "$root" id -u bitnami)
passwd -R "$root" -l root >/dev/null

ssh-keygen -q -t ed25519 -N '' -C "$(marker authorized-keys)" -f "$work/user_key"
secret_file authorized-keys /home/bitnami/.ssh/authorized_keys bitnami:bitnami 0600 "$(cat "$work/user_key.pub")"$'\n'
chmod 0700 "$root/home/bitnami/.ssh"
chroot "$root" chown bitnami:bitnami /home/bitnami/.ssh
secret_file root-authorized-keys /root/.ssh/authorized_keys root:root 0600 \
  "ssh-ed25519 $(head -c 51 /dev/urandom | base64 -w0) $(marker root-authorized-keys)"$'\n'
secret_file root-history /root/.bash_history root:root 0600 \
  "apt-get update"$'\n'"mysql -u root -p'$(marker root-history)'"$'\n'"export API_TOKEN=$(marker root-history)"$'\n'
secret_file bitnami-history /home/bitnami/.bash_history bitnami:bitnami 0600 \
  "sudo /opt/bitnami/ctlscript.sh restart"$'\n'"echo $(marker bitnami-history) > ~/.token"$'\n'
secret_file bitnami-private-key /home/bitnami/.ssh/id_ed25519 bitnami:bitnami 0600 \
  "$(cat "$work/user_key")"$'\n'"# $(marker bitnami-private-key)"$'\n'

# Logs with content (several blocks each), mail, temporary files and caches: all must be emptied.
secret_file auth-log /var/log/auth.log root:adm 0640 "$(marker_lines auth-log 400)"
secret_file syslog /var/log/syslog root:adm 0640 "$(marker_lines syslog 1200)"
secret_file bitnami-log /var/log/bitnami/setup.log root:root 0644 "$(marker_lines bitnami-log 50)"
secret_file mail /var/mail/bitnami bitnami:mail 0660 \
  "From root@debian  Mon Dec  1 10:00:00 2026"$'\n'"Subject: credentials"$'\n\n'"$(marker mail)"$'\n'
secret_file tmp /tmp/session-cache root:root 0600 "$(marker tmp)"$'\n'
secret_file var-tmp /var/tmp/bitnami-install.tmp root:root 0600 "$(marker var-tmp)"$'\n'
secret_file cache /var/cache/bitnami/credentials.cache root:root 0600 "$(marker cache)"$'\n'

# Host keys made now (the cached debootstrap carries the same ones for every build): their
# private parts are recorded so a test can prove none is left in the published image.
rm -f "$root"/etc/ssh/ssh_host_*
host_keys_json="$work/host-keys.jsonl"
for type in rsa ecdsa ed25519; do
  key="$root/etc/ssh/ssh_host_${type}_key"
  ssh-keygen -q -t "$type" -N '' -C "$(marker "host-key-$type")" -f "$key"
  jq -cn --arg type "$type" --arg path "/etc/ssh/ssh_host_${type}_key" \
    --arg fingerprint "$(ssh-keygen -l -E sha256 -f "$key.pub" | awk '{ print $2 }')" \
    --arg publicKey "$(cat "$key.pub")" \
    --arg privateKeyBase64 "$(grep -v -- '-----' "$key" | tr -d '\n')" \
    --argjson privateKeyLines "$(grep -v -- '-----' "$key" | jq -R . | jq -cs .)" \
    --arg marker "$(marker "host-key-$type")" \
    '{type: $type, path: $path, marker: $marker, fingerprint: $fingerprint, publicKey: $publicKey,
      privateKeyBase64: $privateKeyBase64, privateKeyLines: $privateKeyLines}' >>"$host_keys_json"
done

machine_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$machine_id" >"$root/etc/machine-id"
mkdir -p "$root/var/lib/dbus"
ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"

# udev's old persistent naming, as images built on other hypervisors carry it.
cat >"$root/etc/udev/rules.d/70-persistent-net.rules" <<EOF
# This file was automatically generated by the /lib/udev/write_net_rules program.
# PCI device 0x15ad:0x07b0 (vmxnet3)
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="$SOURCE_MAC", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"
EOF

# The Bitnami stack's shape, as preparation's bitnami task expects it.
BITNAMI_TITLE="Bitnami ICaaS Test Stack 1.0.0-0"
mkdir -p "$root/opt/bitnami/scripts/init" "$root/opt/bitnami/apache2/htdocs" "$root/opt/bitnami/apache2/logs"
printf '%s\n\nA Debian 12 disk shaped like a Bitnami virtual machine, for ICaaS tests.\n' "$BITNAMI_TITLE" \
  >"$root/opt/bitnami/README.txt"
cat >"$root/opt/bitnami/scripts/init/functions" <<'EOF'
#!/bin/bash
vm_get_applications_password() {
  cat /opt/bitnami/var/data/bitnami_application_password 2>/dev/null
}
vm_get_system_password() {
  cat /opt/bitnami/var/data/bitnami_system_password 2>/dev/null
}
EOF
cat >"$root/opt/bitnami/ctlscript.sh" <<'EOF'
#!/bin/sh
echo "bitnami test stack: $1"
EOF
chmod 0755 "$root/opt/bitnami/ctlscript.sh"
echo '<html><body>It works!</body></html>' >"$root/opt/bitnami/apache2/htdocs/index.html"
echo '10.0.2.2 - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 45' >"$root/opt/bitnami/apache2/logs/access_log"
cat >"$root/home/bitnami/change-password.sh" <<'EOF'
#!/bin/sh
# Bitnami asks for a new password at the first login.
passwd
EOF
chroot "$root" chown bitnami:bitnami /home/bitnami/change-password.sh
cat >"$root/etc/init.d/welcome" <<'EOF'
#!/bin/sh
ipaddress=$(/sbin/ifconfig eth0 | grep "inet addr" | cut -d: -f2 | awk '{ print $1 }')
echo "Access your application at http://$ipaddress/"
EOF
chmod 0755 "$root/etc/init.d/welcome"
# Current Debian stacks ship with SSH off this way; preparation's bitnami task turns it on.
touch "$root/etc/ssh/sshd_not_to_be_run"

debian_disk_slim "$root"
kernel=$(debian_disk_kernel_version "$root")
fs_uuid=$(cat "$root/.debian-disk-uuid")
raw="$work/disk.raw"
debian_disk_write "$root" "$raw" "$DISK_MIB"
raw_allocated_mib=$(debian_disk_allocated_mib "$raw")

# Every recorded secret must really be on the disk, or a test that finds none in a published image
# would prove nothing.
{
  jq -r '.marker' "$markers_json"
  jq -r '.privateKeyLines[], .marker' "$host_keys_json"
  echo "$password_hash"
} | sort -u >"$work/secrets.txt"
grep -a -o -F -f "$work/secrets.txt" "$raw" | sort -u >"$work/found.txt" || true
missing=$(comm -23 "$work/secrets.txt" "$work/found.txt")
[ -z "$missing" ] || debian_disk_die "secrets not found on the built disk: $missing"

if [ "$boot_check" = yes ]; then
  firmwares=(bios)
  [ "$DEBIAN_DISK_TABLE" != gpt ] || firmwares+=(uefi)
  for firmware in "${firmwares[@]}"; do
    log="${out_zip%.zip}.boot$([ "$firmware" = bios ] || echo "-$firmware").log"
    debian_disk_boot_check "$raw" raw 300 "$log" "$firmware" >/dev/null || {
      tail -n 40 "$log" >&2
      debian_disk_die "the source did not reach a login prompt ($firmware)"
    }
  done
fi

# The Bitnami zip: NAME/NAME.vmdk (streamOptimized), NAME.ovf, NAME.mf.
pkg="$work/zip/$NAME"
mkdir -p "$pkg"
qemu-img convert -O vmdk -o subformat=streamOptimized "$raw" "$pkg/$NAME.vmdk"
rm -f "$raw"
vmdk_bytes=$(stat -c %s "$pkg/$NAME.vmdk")
source_ovf "$NAME" "$NAME.vmdk" "$vmdk_bytes" "$DISK_MIB" >"$pkg/$NAME.ovf"
(cd "$pkg" && for f in "$NAME.ovf" "$NAME.vmdk"; do echo "SHA256($f)= $(sha256sum "$f" | cut -d' ' -f1)"; done) \
  >"$pkg/$NAME.mf"
rm -f "$out_zip.partial"
# Stored, not deflated: the streamOptimized VMDK is compressed already.
(cd "$work/zip" && zip -q -0 -r "$out_zip.partial" "$NAME")

jq -n \
  --arg name "$NAME" --arg zip "$(basename "$out_zip")" --arg vmdk "$NAME/$NAME.vmdk" \
  --arg hostname "$HOSTNAME" --arg kernel "$kernel" --arg machineId "$machine_id" \
  --arg password "$BITNAMI_PASSWORD" --arg passwordHash "$password_hash" \
  --arg fsUuid "$fs_uuid" --argjson diskMiB "$DISK_MIB" --argjson partitions "$(debian_disk_partitions_json)" \
  --arg fsType "$DEBIAN_DISK_FS" --arg table "$DEBIAN_DISK_TABLE" --arg bootloader "$DEBIAN_DISK_BOOTLOADER" \
  --argjson rootPartition "$DEBIAN_DISK_ROOT_NUMBER" --arg mac "$SOURCE_MAC" \
  --argjson lvm "$([ "$DEBIAN_DISK_LVM" = yes ] && echo true || echo false)" \
  --arg vg "$DEBIAN_DISK_VG" --arg lv "$DEBIAN_DISK_LV" \
  --arg bitnamiTitle "$BITNAMI_TITLE" --argjson rawAllocatedMiB "$raw_allocated_mib" \
  --argjson vmdkBytes "$vmdk_bytes" --argjson bitnamiUid "$bitnami_uid" --argjson userKeyPrivate "$(jq -Rs . <"$work/user_key")" \
  --slurpfile markers "$markers_json" --slurpfile hostKeys "$host_keys_json" \
  --arg builtAt "$(date -u +%FT%TZ)" --argjson buildSeconds $((SECONDS - started)) \
  '{
    name: $name, zip: $zip, vmdk: $vmdk,
    os: {family: "linux", distro: "debian", version: "12", kernel: $kernel, hostname: $hostname},
    disk: {
      virtualBytes: ($diskMiB * 1048576), rawAllocatedMiB: $rawAllocatedMiB, vmdkBytes: $vmdkBytes,
      table: $table, bootloader: $bootloader, rootPartition: $rootPartition,
      partitions: $partitions,
      root: ({partition: $rootPartition, fsType: $fsType, fsUuid: $fsUuid}
        + if $lvm then {lvm: {vg: $vg, lv: $lv}} elif $fsType == "btrfs" then {subvolume: "@"} else {} end)
    },
    users: [
      {name: "bitnami", uid: $bitnamiUid, password: $password, passwordHash: $passwordHash, sudo: true,
       authorizedKeyPrivate: $userKeyPrivate},
      {name: "root", uid: 0, locked: true}
    ],
    machineId: $machineId,
    persistentNetRules: {path: "/etc/udev/rules.d/70-persistent-net.rules", mac: $mac},
    bitnami: {title: $bitnamiTitle, sshdNotToBeRun: "/etc/ssh/sshd_not_to_be_run",
      changePasswordScript: "/home/bitnami/change-password.sh", welcome: "/etc/init.d/welcome"},
    markers: $markers,
    hostKeys: $hostKeys,
    builtAt: $builtAt, buildSeconds: $buildSeconds
  }' >"$out_manifest.partial"
# The zip last: a zip present means its manifest is complete.
mv "$out_manifest.partial" "$out_manifest"
mv "$out_zip.partial" "$out_zip"
debian_disk_log "wrote $out_zip ($(du -m "$out_zip" | cut -f1) MiB; raw disk ${DISK_MIB} MiB, ${raw_allocated_mib} MiB allocated) and $out_manifest in $((SECONDS - started)) s"
