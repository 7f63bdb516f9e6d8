/**
 * @module testing/family-trees — small root trees of a RHEL-family (Rocky 9-like) and a SUSE
 * (openSUSE Leap 15-like) guest, written in code: what inspection reads and every task edits, with a
 * marker in each secret that preparation must remove.
 */
import type { GuestTree } from "./guest-tree.ts";

export interface FamilyTreeOptions {
  /** UUID of the root filesystem (fstab, boot loader). */
  rootUuid: string;
  /** A string put in every secret the default tasks remove or empty. */
  marker: string;
}

const SHADOW_HASH =
  "$6$rounds=5000$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmno";

/** Files every systemd guest here shares: the usr-merged links, systemd as init, sshd enabled. */
function systemdBase(marker: string, user: { name: string; uid: number }): GuestTree {
  const home = `/home/${user.name}`;
  return {
    "/bin": { link: "usr/bin" },
    "/sbin": { link: "usr/sbin" },
    "/lib": { link: "usr/lib" },
    "/lib64": { link: "usr/lib64" },
    "/usr/lib/systemd/systemd": { data: "ELF", mode: 0o755 },
    "/usr/sbin/init": { link: "../lib/systemd/systemd" },
    "/usr/sbin/sshd": { data: "ELF", mode: 0o755 },
    "/usr/bin/ssh-keygen": { data: "ELF", mode: 0o755 },
    "/usr/lib/systemd/system/sshd.service":
      "[Unit]\nDescription=OpenSSH server daemon\n[Service]\nExecStart=/usr/sbin/sshd -D $OPTIONS\n[Install]\nWantedBy=multi-user.target\n",
    "/etc/systemd/system/multi-user.target.wants/sshd.service": {
      link: "/usr/lib/systemd/system/sshd.service",
    },
    "/etc/ssh/sshd_config":
      "PermitRootLogin prohibit-password\nSubsystem sftp /usr/libexec/openssh/sftp-server\n",
    "/etc/ssh/ssh_host_rsa_key": {
      data: `-----BEGIN OPENSSH PRIVATE KEY-----\n${marker}-rsa\n`,
      mode: 0o640,
      gid: 994,
    },
    "/etc/ssh/ssh_host_rsa_key.pub": "ssh-rsa AAAAB3Nza host\n",
    "/etc/ssh/ssh_host_ed25519_key": {
      data: `-----BEGIN OPENSSH PRIVATE KEY-----\n${marker}-ed25519\n`,
      mode: 0o640,
      gid: 994,
    },
    "/etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAAC3Nz host\n",
    "/etc/machine-id": { data: "0123456789abcdef0123456789abcdef\n", mode: 0o444 },
    "/var/lib/dbus/machine-id": { link: "/etc/machine-id" },
    "/etc/hostname": "builder.example.org\n",
    "/root": { dir: true, mode: 0o550 },
    "/root/.bash_history": { data: `ls\n${marker}-root-history\n`, mode: 0o600 },
    [`${home}`]: { dir: true, mode: 0o700, uid: user.uid, gid: user.uid },
    [`${home}/.bash_history`]: {
      data: `${marker}-user-history\n`,
      mode: 0o600,
      uid: user.uid,
      gid: user.uid,
    },
    [`${home}/.bashrc`]: { data: "# .bashrc\n", uid: user.uid, gid: user.uid },
    [`${home}/.ssh`]: { dir: true, mode: 0o700, uid: user.uid, gid: user.uid },
    [`${home}/.ssh/authorized_keys`]: {
      data: `ssh-ed25519 AAAA ${marker}-authorized\n`,
      mode: 0o600,
      uid: user.uid,
      gid: user.uid,
    },
    "/tmp": { dir: true, mode: 0o1777 },
    "/tmp/build.sh": `echo ${marker}-tmp\n`,
    "/var/tmp": { dir: true, mode: 0o1777 },
    "/var/log/messages": { data: `Dec  3 sshd: ${marker}-log\n`, mode: 0o600 },
    "/var/log/wtmp": { data: "wtmp", mode: 0o664, gid: 22 },
  };
}

function passwd(user: { name: string; uid: number }): string {
  return [
    "root:x:0:0:root:/root:/bin/bash",
    "bin:x:1:1:bin:/bin:/sbin/nologin",
    "daemon:x:2:2:daemon:/sbin:/sbin/nologin",
    "sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin",
    `${user.name}:x:${user.uid}:${user.uid}:Cloud User:/home/${user.name}:/bin/bash`,
    "",
  ].join("\n");
}

function shadow(user: string, marker: string): string {
  return [
    `root:${SHADOW_HASH}${marker}:19700:0:99999:7:::`,
    "bin:*:19700:0:99999:7:::",
    "daemon:*:19700:0:99999:7:::",
    "sshd:!!:19700::::::",
    `${user}:${SHADOW_HASH}:19700:0:99999:7:::`,
    "",
  ].join("\n");
}

/**
 * A Rocky Linux 9-like guest: dnf, NetworkManager (a keyfile and an ifcfg), SELinux enforcing,
 * GRUB 2 with BLS entries, a separate /boot (its kernel config is only visible with /boot mounted),
 * fstab by UUID with a `/dev/vda3` swap line. `bootUuid` names the /boot filesystem. With `lvm`,
 * root and swap are the LVM volumes rl/root and rl/swap, named by /dev/mapper paths as RHEL does.
 */
export function rhelTree(o: FamilyTreeOptions & { bootUuid: string; lvm?: boolean }): {
  root: GuestTree;
  boot: GuestTree;
} {
  const kernel = "5.14.0-427.13.1.el9_4.x86_64";
  const rootSpec = o.lvm ? "/dev/mapper/rl-root" : `UUID=${o.rootUuid}`;
  const cmdline = `root=${rootSpec} ro${o.lvm ? " rd.lvm.lv=rl/root" : ""} console=tty0 console=ttyS0,115200n8 no_timer_check crashkernel=1G-4G:192M`;
  const root: GuestTree = {
    ...systemdBase(o.marker, { name: "rocky", uid: 1000 }),
    "/etc/os-release":
      'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
    "/etc/redhat-release": "Rocky Linux release 9.4 (Blue Onyx)\n",
    "/etc/rocky-release": { link: "redhat-release" },
    "/etc/passwd": passwd({ name: "rocky", uid: 1000 }),
    "/etc/shadow": { data: shadow("rocky", o.marker), mode: 0 },
    "/etc/shadow-": { data: `root:${SHADOW_HASH}${o.marker}-backup:19700::::::\n`, mode: 0 },
    "/etc/group": "root:x:0:\nwheel:x:10:rocky\nrocky:x:1000:\n",
    "/etc/fstab": [
      "# Created by anaconda",
      `${rootSpec} /     xfs defaults 0 0`,
      `UUID=${o.bootUuid} /boot xfs defaults 0 0`,
      o.lvm ? "/dev/mapper/rl-swap none swap defaults 0 0" : "/dev/vda3 none swap defaults 0 0",
      "",
    ].join("\n"),
    "/boot": { dir: true, mode: 0o555 },
    "/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
    "/etc/default/grub": `GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8 no_timer_check crashkernel=1G-4G:192M"\nGRUB_ENABLE_BLSCFG=true\n`,
    "/etc/kernel/cmdline": `${cmdline}\n`,
    "/usr/bin/dnf": { link: "dnf-3" },
    "/usr/bin/dnf-3": { data: "#!/usr/bin/python3\n", mode: 0o755 },
    "/usr/bin/yum": { link: "dnf-3" },
    "/usr/sbin/NetworkManager": { data: "ELF", mode: 0o755 },
    "/usr/lib/systemd/system/NetworkManager.service":
      "[Service]\nExecStart=/usr/sbin/NetworkManager --no-daemon\n[Install]\nWantedBy=multi-user.target\n",
    "/etc/systemd/system/multi-user.target.wants/NetworkManager.service": {
      link: "/usr/lib/systemd/system/NetworkManager.service",
    },
    "/etc/NetworkManager/system-connections/office-wifi.nmconnection": {
      data: `[connection]\nid=office\n[wifi-security]\npsk=${o.marker}-psk\n`,
      mode: 0o600,
    },
    "/etc/sysconfig/network-scripts/ifcfg-eth0":
      'DEVICE=eth0\nHWADDR=52:54:00:12:34:56\nBOOTPROTO=dhcp\nONBOOT=yes\nUUID="5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03"\n',
    "/etc/udev/rules.d/70-persistent-net.rules":
      'SUBSYSTEM=="net", ATTR{address}=="52:54:00:12:34:56", NAME="eth0"\n',
    "/etc/sysctl.d/99-sysctl.conf": "# sysctl settings\n",
    "/etc/acpi": { dir: true },
    "/var/cache/dnf/baseos-2f1bd5d1/repodata/primary.xml.gz": `${o.marker}-cache`,
    "/var/log/secure": { data: `Accepted publickey ${o.marker}-secure\n`, mode: 0o600 },
    "/var/log/dnf.log": `${o.marker}-dnf\n`,
    "/var/log/audit/audit.log": { data: `type=USER_AUTH ${o.marker}-audit\n`, mode: 0o600 },
  };
  const boot: GuestTree = {
    [`/config-${kernel}`]: "CONFIG_XFS_FS=m\n",
    [`/vmlinuz-${kernel}`]: { data: "kernel", mode: 0o755 },
    "/grub2/grub.cfg": "set timeout=1\nblscfg\n",
    "/grub2/grubenv": `# GRUB Environment Block\nsaved_entry=0123456789abcdef0123456789abcdef-${kernel}\n`,
    [`/loader/entries/0123456789abcdef0123456789abcdef-${kernel}.conf`]: `title Rocky Linux (${kernel}) 9.4 (Blue Onyx)\nversion ${kernel}\nlinux /vmlinuz-${kernel}\ninitrd /initramfs-${kernel}.img\noptions ${o.lvm ? cmdline : cmdline.replace(`UUID=${o.rootUuid}`, "/dev/vda1")}\n`,
  };
  return { root, boot };
}

/**
 * An openSUSE Leap 15.6-like guest on btrfs: root in the default snapshot subvolume
 * `@/.snapshots/1/snapshot`, `/var` and `/home` in subvolumes of their own (as the installer lays it
 * out), zypper, wicked with ifcfg files, no NetworkManager, no SELinux.
 */
export function suseTree(o: FamilyTreeOptions): GuestTree {
  const kernel = "6.4.0-150600.23.7-default";
  const sub = (p: string) => `UUID=${o.rootUuid} ${p} btrfs subvol=/@${p} 0 0`;
  return {
    ...systemdBase(o.marker, { name: "tux", uid: 1000 }),
    "/etc/os-release":
      'NAME="openSUSE Leap"\nVERSION="15.6"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.6"\nPRETTY_NAME="openSUSE Leap 15.6"\n',
    "/etc/passwd": passwd({ name: "tux", uid: 1000 }),
    "/etc/shadow": { data: shadow("tux", o.marker), mode: 0o640, gid: 15 },
    "/etc/group": "root:x:0:\nshadow:x:15:\nusers:x:100:\ntux:x:1000:\n",
    "/etc/fstab": [
      `UUID=${o.rootUuid} / btrfs defaults 0 0`,
      sub("/var"),
      sub("/home"),
      sub("/.snapshots"),
      "/dev/sda2 swap swap defaults 0 0",
      "",
    ].join("\n"),
    "/.snapshots": { dir: true, mode: 0o750 },
    "/etc/default/grub":
      'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent mitigations=auto quiet security=apparmor console=ttyS0,115200"\nGRUB_CMDLINE_LINUX=""\n',
    [`/boot/config-${kernel}`]: "CONFIG_BTRFS_FS=m\n",
    "/boot/grub2/grub.cfg": `set timeout=8\nmenuentry 'openSUSE Leap 15.6' {\n  linux /boot/vmlinuz-${kernel} root=/dev/sda1 \${extra_cmdline} splash=silent quiet console=ttyS0,115200\n  initrd /boot/initrd-${kernel}\n}\n`,
    "/usr/bin/zypper": { data: "ELF", mode: 0o755 },
    "/usr/sbin/wickedd": { data: "ELF", mode: 0o755 },
    "/usr/lib/systemd/system/wicked.service":
      "[Service]\nExecStart=/usr/sbin/wicked --systemd ifup all\n[Install]\nWantedBy=multi-user.target\nAlias=network.service\n",
    "/etc/systemd/system/network.service": { link: "/usr/lib/systemd/system/wicked.service" },
    "/etc/systemd/system/multi-user.target.wants/wicked.service": {
      link: "/usr/lib/systemd/system/wicked.service",
    },
    "/etc/sysconfig/network/ifcfg-eth0": "BOOTPROTO='dhcp'\nSTARTMODE='auto'\n",
    "/etc/sysctl.conf": "net.ipv6.conf.all.use_tempaddr = 2\n",
    "/var/cache/zypp/raw/repo-oss/repomd.xml": `${o.marker}-cache`,
    "/var/log/zypper.log": `${o.marker}-zypper\n`,
  };
}
