/** @module testing/verify-prepared — asserts, with plain debugfs reads, that every default task did its work on the Debian 12 fixture. */
import assert from "node:assert/strict";
import { fileContains, guestCat, guestLs, guestStat } from "./guest.ts";

async function must(image: string, offset: number, path: string): Promise<string> {
  const text = await guestCat(image, offset, path);
  assert.notEqual(text, undefined, `${path} should exist in the guest`);
  return text as string;
}

async function owner(
  image: string,
  offset: number,
  path: string,
): Promise<[number, number, number] | undefined> {
  const st = await guestStat(image, offset, path);
  return st ? [st.mode, st.uid, st.gid] : undefined;
}

/** Asserts that `marker`, planted in the fixture's secrets, occurs nowhere in the raw image. */
export async function assertNoSecretLeft(image: string, marker: string): Promise<void> {
  assert.equal(await fileContains(image, marker), false, "no secret survives anywhere in the raw image");
}

/** The metadata a prepared `debian12` fixture disk carries, whatever its root filesystem. */
export const DEBIAN_FIXTURE_METADATA: Readonly<Record<string, string>> = {
  OSFAMILY: "linux",
  ROOT_PARTITION: "1",
  OS: "debian",
  OSVERSION: "12.11",
  DESCRIPTION: "Debian GNU/Linux 12 (bookworm)",
  SORTORDER: "7701211",
  USERS: "root admin alice nopass",
  KERNEL: "6.1.0-13-amd64",
  PARTITION_TABLE: "msdos",
  // PermitRootLogin no: root is not offered.
  REMOTE_CONNECTION: "ssh:port=2222,user=admin ssh:port=2222,user=alice ssh:port=2222,user=nopass",
};

/**
 * Checks a prepared `debian12` fixture disk task by task (default task selection). `rootUuid` is the
 * root filesystem's UUID, which fstab and grub.cfg must now use.
 *
 * @example
 * await verifyPreparedDebian(disk.path, disk.rootOffset, inspection.root.filesystem.uuid);
 */
export async function verifyPreparedDebian(
  image: string,
  offset: number,
  rootUuid: string,
  /** `removed` when cleanup-mail was enabled (the agent enables it for every published image). */
  options: { mail?: "kept" | "removed" } = {},
): Promise<void> {
  const ls = (dir: string) => guestLs(image, offset, dir);
  const cat = (path: string) => must(image, offset, path);
  const gone = async (path: string) =>
    assert.equal(await guestStat(image, offset, path), undefined, `${path} should be gone`);

  // cleanup-cache: files go, directories stay.
  await gone("/var/cache/apt/pkgcache.bin");
  await gone("/var/cache/apt/archives/hello_2.10-3_amd64.deb");
  await gone("/var/cache/man/index.db");
  assert.equal((await guestStat(image, offset, "/var/cache/apt/archives/partial"))?.type, "directory");
  // cleanup-tmp
  assert.deepEqual(await ls("/tmp"), []);
  assert.deepEqual(await ls("/var/tmp"), []);
  assert.deepEqual(await owner(image, offset, "/tmp"), [0o1777, 0, 0]);
  // cleanup-log: emptied in place, modes and owners kept.
  for (const f of ["/var/log/syslog", "/var/log/auth.log", "/var/log/wtmp", "/var/log/apt/history.log"]) {
    assert.equal((await guestStat(image, offset, f))?.size, 0, `${f} should be empty`);
  }
  assert.deepEqual(await owner(image, offset, "/var/log/syslog"), [0o640, 0, 4]);
  assert.deepEqual(await owner(image, offset, "/var/log/wtmp"), [0o664, 0, 43]);
  // cleanup-mail is off by default in imageprep, as in snf-image-creator.
  if (options.mail === "removed") await gone("/var/mail/admin");
  else assert.match(await cat("/var/mail/admin"), /mail body/);
  // cleanup-userdata
  for (const f of [
    "/root/.bash_history",
    "/root/.ssh/authorized_keys",
    "/home/admin/.bash_history",
    "/home/admin/.kamakirc",
    "/home/admin/.ssh/authorized_keys",
    "/home/admin/.ssh/id_ed25519",
    "/home/admin/.gnupg/pubring.kbx",
    "/home/alice/.zsh_history",
  ]) {
    await gone(f);
  }
  assert.deepEqual(await owner(image, offset, "/home/admin/.ssh"), [0o700, 1000, 1000]);
  assert.match(await cat("/home/admin/.profile"), /profile/);
  assert.match(await cat("/root/.profile"), /profile/);
  // cleanup-passwords: every password field is exactly "!" or "*"; the backup is gone.
  const shadow = await cat("/etc/shadow");
  const fields = Object.fromEntries(
    shadow
      .trim()
      .split("\n")
      .map((l) => [l.split(":")[0], l.split(":")[1]]),
  );
  for (const [user, pw] of Object.entries(fields))
    assert.ok(pw === "!" || pw === "*", `${user} should be locked, has ${pw}`);
  assert.equal(fields.root, "!");
  assert.equal(fields.daemon, "*");
  assert.equal(fields.nopass, "!");
  assert.match(shadow, /^admin:!:19700:0:99999:7:::$/m, "only the password field changes");
  assert.deepEqual(await owner(image, offset, "/etc/shadow"), [0o640, 0, 42]);
  await gone("/etc/shadow-");
  // remove-user-accounts is off by default.
  assert.match(await cat("/etc/passwd"), /^alice:x:1001:/m);
  // fix-acpid
  assert.match(await cat("/etc/acpi/events/powerbtn-acpi-support"), /^action=\/sbin\/shutdown -h now$/m);
  // remove-persistent-net-rules
  await gone("/etc/udev/rules.d/70-persistent-net.rules");
  assert.ok((await ls("/etc/udev/rules.d")).includes("60-keep.rules"));
  // remove-swap-entry and use-persistent-block-device-names
  const fstab = await cat("/etc/fstab");
  assert.doesNotMatch(fstab, /\sswap\s/);
  assert.match(fstab, new RegExp(`^UUID=${rootUuid}\\s+/\\s+ext4\\s+errors=remount-ro`, "m"));
  assert.doesNotMatch(fstab, /^\/dev\/sda/m);
  assert.match(fstab, /^\/dev\/sr0\s+\/media\/cdrom0/m, "a CD-ROM is not a disk partition: left alone");
  // change-bootmenu-timeout, disable-predictable-network-interface-naming, disable-serial-console
  const grubCfg = await cat("/boot/grub/grub.cfg");
  assert.match(grubCfg, /^set timeout=10$/m);
  const linux = grubCfg.split("\n").find((l) => /^\s*linux\s/.test(l)) ?? "";
  assert.match(linux, new RegExp(`root=UUID=${rootUuid}\\b`));
  assert.match(linux, /\bnet\.ifnames=0\b/);
  assert.doesNotMatch(linux, /console=ttyS|earlyprintk/);
  assert.match(linux, /\bquiet\b/);
  const defaults = await cat("/etc/default/grub");
  assert.match(defaults, /^GRUB_TIMEOUT=10$/m);
  assert.match(defaults, /^GRUB_CMDLINE_LINUX_DEFAULT="quiet"$/m);
  assert.match(defaults, /^GRUB_CMDLINE_LINUX="net\.ifnames=0"$/m);
  // disable-ipv6-privacy-extensions
  const sysctl = await cat("/etc/sysctl.d/10-ipv6-privacy.conf");
  assert.match(sysctl, /^net\.ipv6\.conf\.all\.use_tempaddr = 0$/m);
  assert.match(sysctl, /^net\.ipv6\.conf\.default\.use_tempaddr = 0$/m);
  // clear-local-machine-id-configuration-file
  assert.deepEqual(await owner(image, offset, "/etc/machine-id"), [0o444, 0, 0]);
  assert.equal((await guestStat(image, offset, "/etc/machine-id"))?.size, 0);
  // remove-networkmanager-system-connections
  assert.deepEqual(await ls("/etc/NetworkManager/system-connections"), []);
  // remove-ssh-host-keys
  assert.deepEqual(
    (await ls("/etc/ssh")).filter((n) => n.startsWith("ssh_host_")),
    [],
  );
  assert.match(await cat("/etc/ssh/sshd_config"), /Include/);
  // first-boot: a systemd oneshot that runs each queued step until it succeeded, then removes itself;
  // the host keys come from their own unit, before sshd.
  const script = await cat("/usr/local/sbin/icaas-first-boot");
  assert.deepEqual(await owner(image, offset, "/usr/local/sbin/icaas-first-boot"), [0o755, 0, 0]);
  assert.doesNotMatch(script, /ssh-keygen/);
  assert.match(await cat("/usr/local/sbin/icaas-ssh-keygen"), /^if ! ssh-keygen -A; then$/m);
  assert.match(
    await cat("/etc/systemd/system/icaas-ssh-keygen.service"),
    /^Before=ssh\.service sshd\.service/m,
  );
  assert.match(script, /apt-get -y update && apt-get -y .* upgrade/);
  assert.match(script, /^run_step update-software yes step_\d$/m);
  assert.match(script, /systemctl enable "\$u"/);
  assert.match(
    script,
    /rm -f "\$R\/etc\/systemd\/system\/multi-user\.target\.wants\/icaas-first-boot\.service"/,
  );
  assert.match(script, /rm -f "\$R\/usr\/local\/sbin\/icaas-first-boot"/);
  const unit = await cat("/etc/systemd/system/icaas-first-boot.service");
  assert.match(unit, /Type=oneshot/);
  assert.match(unit, /ExecStart=\/usr\/local\/sbin\/icaas-first-boot/);
  const wants = await guestStat(
    image,
    offset,
    "/etc/systemd/system/multi-user.target.wants/icaas-first-boot.service",
  );
  assert.equal(wants?.target, "/etc/systemd/system/icaas-first-boot.service");
}
