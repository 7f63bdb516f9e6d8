/** @module families.test — RHEL-family (XFS, separate /boot) and SUSE (btrfs subvolumes) guests: inspection, every default task, first boot and the scrub, checked offline through independent read-only mounts. */
import assert from "node:assert/strict";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareImage } from "./prepare.ts";
import {
  assertNoSecretLeft,
  buildFamilyDisk,
  checkFilesystem,
  fileContains,
  leftovers,
  withReadOnlyMounts,
} from "./testing/index.ts";

const MARKER = "FAMILY-SECRET-7f3a";

async function text(path: string): Promise<string> {
  return readFile(path, "utf8");
}

async function gone(path: string): Promise<void> {
  await assert.rejects(lstat(path), { code: "ENOENT" }, `${path} should be gone`);
}

describe("RHEL-family and SUSE guests (mount backend)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-families-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prepares a Rocky 9-like guest on XFS with a separate XFS /boot", async () => {
    const disk = await buildFamilyDisk(join(dir, "rhel.raw"), "rhel", MARKER);
    assert.ok(await fileContains(disk.path, MARKER), "the fixture carries its secrets");
    const lines: string[] = [];
    const r = await prepareImage(disk.path, { log: (l) => lines.push(l) });
    assert.deepEqual(r.metadata, {
      OSFAMILY: "linux",
      ROOT_PARTITION: "1",
      OS: "rocky",
      OSVERSION: "9.4",
      DESCRIPTION: "Rocky Linux 9.4 (Blue Onyx)",
      SORTORDER: "7540904",
      USERS: "root rocky",
      // Only readable with the /boot partition mounted where fstab says.
      KERNEL: "5.14.0-427.13.1.el9_4.x86_64",
      PARTITION_TABLE: "msdos",
      NM_NETWORKING: "yes",
      REMOTE_CONNECTION: "ssh:port=22,user=root ssh:port=22,user=rocky",
    });
    assert.equal(r.inspection.root?.backend, "mount");
    assert.ok(lines.some((l) => /mounted partition 2 \(xfs\) at guest \/boot/.test(l)));
    assert.ok(lines.some((l) => /^\/: free space discarded/.test(l)));
    assert.deepEqual(await leftovers(disk.path), [], "no loop device or mount is left");
    const [root, boot] = disk.partitions;
    assert.ok(root && boot);
    await withReadOnlyMounts(
      disk.path,
      [
        { ...root, type: "xfs" },
        { ...boot, type: "xfs" },
      ],
      async ([r0, b0]) => {
        const g = (p: string) => join(r0 as string, p);
        const shadow = await text(g("etc/shadow"));
        assert.match(shadow, /^root:!:19700:/m);
        assert.match(shadow, /^rocky:!:19700:/m);

        assert.equal((await lstat(g("etc/shadow"))).mode & 0o7777, 0, "mode kept");
        for (const p of [
          "etc/shadow-",
          "etc/ssh/ssh_host_rsa_key",
          "etc/ssh/ssh_host_ed25519_key.pub",
          "root/.bash_history",
          "home/rocky/.bash_history",
          "home/rocky/.ssh/authorized_keys",
          "etc/NetworkManager/system-connections/office-wifi.nmconnection",
          "etc/udev/rules.d/70-persistent-net.rules",
          "var/cache/dnf/baseos-2f1bd5d1/repodata/primary.xml.gz",
          "tmp/build.sh",
        ]) {
          await gone(g(p));
        }
        assert.equal((await lstat(g("home/rocky/.ssh"))).uid, 1000, "the directory stays with its owner");
        for (const p of ["var/log/messages", "var/log/secure", "var/log/audit/audit.log", "etc/machine-id"]) {
          assert.equal((await lstat(g(p))).size, 0, `${p} emptied`);
        }
        assert.equal((await lstat(g("var/log/secure"))).mode & 0o777, 0o600);
        const fstab = await text(g("etc/fstab"));
        assert.doesNotMatch(fstab, /swap/);
        assert.match(fstab, new RegExp(`^UUID=${disk.bootUuid} /boot xfs`, "m"));
        // BLS entry and /etc/kernel/cmdline: persistent root, no serial console, eth0 names.
        const entries = await readdir(join(b0 as string, "loader/entries"));
        const bls = await text(join(b0 as string, "loader/entries", entries[0] as string));
        const options = bls.split("\n").find((l) => l.startsWith("options ")) ?? "";
        assert.match(options, new RegExp(`root=UUID=${disk.rootUuid} `));
        assert.doesNotMatch(options, /console=ttyS/);
        assert.match(options, /net\.ifnames=0/);
        const cmdline = await text(g("etc/kernel/cmdline"));
        assert.doesNotMatch(cmdline, /console=ttyS/);
        assert.match(cmdline, /net\.ifnames=0/);
        assert.match(await text(g("etc/default/grub")), /^GRUB_TIMEOUT=10$/m);
        assert.match(
          await text(g("etc/default/grub")),
          /^GRUB_CMDLINE_LINUX="console=tty0 no_timer_check crashkernel=1G-4G:192M net\.ifnames=0"$/m,
        );
        // SELinux enforcing: the offline edits are relabelled at first boot.
        assert.equal((await lstat(g(".autorelabel"))).isFile(), true);
        const script = await text(g("usr/local/sbin/icaas-first-boot"));
        assert.match(script, /dnf -y upgrade --refresh/);
        assert.match(script, /dnf -y install openssh-server/);
        assert.doesNotMatch(script, /apt-get|zypper/);
        // snf-image grows the partition, not an XFS filesystem: first boot does, before any download.
        assert.match(
          script,
          /^run_step grow-root-filesystem no step_\d+\n(?:.*\n)*run_step update-software yes/m,
        );
        assert.match(script, /^ {2}xfs\) xfs_growfs \/ \|\| return 1 ;;$/m);
        assert.equal((await lstat(g("usr/local/sbin/icaas-first-boot"))).mode & 0o777, 0o755);
        const wants = "etc/systemd/system/multi-user.target.wants/icaas-first-boot.service";
        assert.equal((await lstat(g(wants))).isSymbolicLink(), true);
      },
    );
    for (const part of [root, boot]) assert.equal(await checkFilesystem(disk.path, part, "xfs"), "");
    await assertNoSecretLeft(disk.path, MARKER);
  });

  it("prepares an openSUSE Leap-like guest on btrfs with its subvolumes (root in the default snapshot)", async () => {
    const disk = await buildFamilyDisk(join(dir, "suse.raw"), "suse", MARKER);
    const lines: string[] = [];
    const r = await prepareImage(disk.path, { log: (l) => lines.push(l) });
    assert.deepEqual(r.metadata, {
      OSFAMILY: "linux",
      ROOT_PARTITION: "1",
      OS: "opensuse",
      OSVERSION: "15.6",
      DESCRIPTION: "openSUSE Leap 15.6",
      SORTORDER: "7441506",
      USERS: "root tux",
      KERNEL: "6.4.0-150600.23.7-default",
      PARTITION_TABLE: "msdos",
      REMOTE_CONNECTION: "ssh:port=22,user=root ssh:port=22,user=tux",
    });
    assert.equal(r.inspection.root?.subvolume, "@/.snapshots/1/snapshot");
    for (const at of ["/var", "/home", "/.snapshots"])
      assert.ok(
        lines.some((l) => l.includes(`at guest ${at}`)),
        `${at} mounted from its subvolume`,
      );
    assert.deepEqual(await leftovers(disk.path), []);
    const [part] = disk.partitions;
    assert.ok(part);
    await withReadOnlyMounts(
      disk.path,
      [{ ...part, type: "btrfs", options: "subvolid=5" }],
      async ([top]) => {
        const root = (p: string) => join(top as string, "@/.snapshots/1/snapshot", p);
        const sub = (p: string) => join(top as string, "@", p);
        assert.match(await text(root("etc/shadow")), /^tux:!:19700:/m);
        assert.equal((await lstat(root("etc/shadow"))).gid, 15);
        await gone(root("etc/ssh/ssh_host_rsa_key"));
        await gone(root("root/.bash_history"));
        // In the @/home and @/var subvolumes: reached only because fstab's subvol= mounts were made.
        await gone(sub("home/tux/.bash_history"));
        await gone(sub("home/tux/.ssh/authorized_keys"));
        await gone(sub("var/cache/zypp/raw/repo-oss/repomd.xml"));
        assert.equal((await lstat(sub("var/log/zypper.log"))).size, 0);
        assert.equal((await lstat(sub("var/log/messages"))).size, 0);
        const fstab = await text(root("etc/fstab"));
        assert.match(fstab, /\/var btrfs subvol=\/@\/var/);
        assert.doesNotMatch(fstab, /swap/);
        const grub = await text(root("boot/grub2/grub.cfg"));
        assert.match(grub, new RegExp(`root=UUID=${disk.rootUuid} `));
        assert.doesNotMatch(grub, /console=ttyS/);
        assert.match(await text(root("etc/sysctl.conf")), /^net\.ipv6\.conf\.all\.use_tempaddr = 0$/m);
        await gone(root(".autorelabel"));
        const script = await text(root("usr/local/sbin/icaas-first-boot"));
        assert.match(script, /zypper --non-interactive refresh && zypper --non-interactive update/);
        assert.match(script, /zypper --non-interactive install openssh/);
        assert.doesNotMatch(script, /apt-get|dnf/);
        assert.match(script, /^run_step grow-root-filesystem no /m);
        assert.match(script, /^ {2}btrfs\) btrfs filesystem resize max \/ \|\| return 1 ;;$/m);
      },
    );
    assert.equal(await checkFilesystem(disk.path, part, "btrfs"), "");
    await assertNoSecretLeft(disk.path, MARKER);
  });

  it("prepares a Rocky-like guest whose XFS root is an LVM volume, read without device-mapper or the host's LVM", async () => {
    const disk = await buildFamilyDisk(join(dir, "rhel-lvm.raw"), "rhel-lvm", MARKER);
    const lines: string[] = [];
    const r = await prepareImage(disk.path, { log: (l) => lines.push(l) });
    assert.deepEqual(r.inspection.root?.lvm, { vg: "rl", lv: "root" });
    assert.equal(r.inspection.root?.offset, disk.rootVolume?.offset);
    assert.deepEqual(
      r.inspection.volumes?.map((v) => [v.lvm.lv, v.filesystem.type]),
      [
        ["root", "xfs"],
        ["swap", "unknown"],
      ],
    );
    // snf-image only knows partitions: the physical volume's.
    assert.equal(r.metadata.ROOT_PARTITION, "2");
    assert.equal(r.metadata.KERNEL, "5.14.0-427.13.1.el9_4.x86_64");
    assert.ok(lines.some((l) => /mounted partition 1 \(xfs\) at guest \/boot/.test(l)));
    assert.deepEqual(await leftovers(disk.path), []);
    // The guest's VG was never known to the host's LVM: nothing backed up or archived under its name.
    for (const d of ["/etc/lvm/backup", "/etc/lvm/archive"]) {
      const names = await readdir(d).catch(() => [] as string[]);
      assert.ok(!names.some((n) => n === "rl" || n.startsWith("rl_")), `${d} holds nothing of the guest`);
    }
    const lv = disk.rootVolume as { offset: number; bytes: number };
    await withReadOnlyMounts(disk.path, [{ ...lv, type: "xfs" }], async ([root]) => {
      const fstab = await text(join(root as string, "etc/fstab"));
      assert.match(fstab, /^\/dev\/mapper\/rl-root \/ +xfs/m, "LVM names are persistent: left alone");
      assert.doesNotMatch(fstab, /swap/);
      await gone(join(root as string, "etc/ssh/ssh_host_rsa_key"));
      assert.equal((await lstat(join(root as string, ".autorelabel"))).isFile(), true);
      // The volume (after its physical volume) and then its XFS grow at first boot.
      const script = await text(join(root as string, "usr/local/sbin/icaas-first-boot"));
      assert.match(script, /^run_step grow-root-filesystem no /m);
      assert.match(script, /pvresize "\$pv"[\s\S]*lvextend -l \+100%FREE "\$src"/);
    });
    assert.equal(await checkFilesystem(disk.path, lv, "xfs"), "");
    await assertNoSecretLeft(disk.path, MARKER);
  });
});
