/** @module debian-mount.test — the Debian 12 fixture on XFS and on btrfs (Ubuntu's @/@home layout): the same preparation as on ext4, through the mount backend. */
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareImage } from "./prepare.ts";
import {
  assertNoSecretLeft,
  buildDisk,
  buildTestDisk,
  checkFilesystem,
  copyFixtureTree,
  DEBIAN_FIXTURE_METADATA,
  fileContains,
  guestCat,
  leftovers,
  withReadOnlyMounts,
} from "./testing/index.ts";

const MARKER = "DEBIAN-MOUNT-SECRET-51c";

describe("Debian 12 on XFS and btrfs (mount backend)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-debian-mount-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const fs of ["xfs", "btrfs"] as const) {
    it(`prepares it on ${fs}${fs === "btrfs" ? " with / in @ and /home in @home" : ""}`, async () => {
      const disk = await buildTestDisk({
        path: join(dir, `${fs}.raw`),
        rootFs: fs,
        btrfsSubvolumes: fs === "btrfs",
        diskMiB: 200,
        marker: MARKER,
      });
      assert.ok(await fileContains(disk.path, MARKER));
      const r = await prepareImage(disk.path);
      const uuid = r.inspection.root?.filesystem.uuid as string;
      assert.ok(uuid);
      assert.equal(r.inspection.root?.backend, "mount");
      if (fs === "btrfs") assert.equal(r.inspection.root?.subvolume, "@");
      assert.deepEqual(r.metadata, DEBIAN_FIXTURE_METADATA);
      assert.deepEqual(await leftovers(disk.path), []);
      const part = { offset: disk.rootOffset, bytes: disk.rootBytes };
      const options = fs === "btrfs" ? "subvolid=5" : undefined;
      await withReadOnlyMounts(
        disk.path,
        [{ ...part, type: fs, ...(options ? { options } : {}) }],
        async ([m]) => {
          const root = (p: string) => join(m as string, fs === "btrfs" ? "@" : "", p);
          const home = (p: string) => join(m as string, fs === "btrfs" ? "@home" : "home", p);
          assert.match(await readFile(root("etc/shadow"), "utf8"), /^admin:!:19700:0:99999:7:::$/m);
          const shadow = await lstat(root("etc/shadow"));
          assert.deepEqual([shadow.mode & 0o7777, shadow.uid, shadow.gid], [0o640, 0, 42]);
          await assert.rejects(lstat(home("admin/.bash_history")), { code: "ENOENT" });
          await assert.rejects(lstat(home("admin/.ssh/authorized_keys")), { code: "ENOENT" });
          assert.equal((await lstat(home("admin/.ssh"))).uid, 1000);
          assert.match(
            await readFile(home("admin/.profile"), "utf8"),
            /profile/,
            "the home subvolume is the one edited",
          );
          assert.deepEqual(
            (await readdir(root("etc/ssh"))).filter((n) => n.startsWith("ssh_host_")),
            [],
          );
          assert.equal((await lstat(root("var/log/auth.log"))).size, 0);
          const fstab = await readFile(root("etc/fstab"), "utf8");
          assert.match(fstab, new RegExp(`^UUID=${uuid}\\s+/\\s+${fs}\\s`, "m"));
          assert.doesNotMatch(fstab, /\sswap\s/);
          const grub = await readFile(root("boot/grub/grub.cfg"), "utf8");
          assert.match(grub, new RegExp(`root=UUID=${uuid}\\b`));
          assert.match(await readFile(root("usr/local/sbin/icaas-first-boot"), "utf8"), /apt-get/);
          await assert.rejects(lstat(root(".autorelabel")), { code: "ENOENT" }, "no SELinux here");
        },
      );
      assert.equal(await checkFilesystem(disk.path, part, fs), "");
      await assertNoSecretLeft(disk.path, MARKER);
    });
  }

  it("prepares an ext4 root whose fstab mounts /boot from another partition through the mount backend, /boot/grub included", async () => {
    const root = join(dir, "split-root");
    const boot = join(dir, "split-boot");
    await copyFixtureTree("debian12", root);
    await rename(join(root, "boot"), boot);
    await mkdir(join(root, "boot"));
    const rootUuid = "5d1c2a52-7a43-4e0e-9d0e-0c1f4c1b2a01";
    const bootUuid = "5d1c2a52-7a43-4e0e-9d0e-0c1f4c1b2a02";
    await writeFile(
      join(root, "etc/fstab"),
      `UUID=${rootUuid} / ext4 errors=remount-ro 0 1\nUUID=${bootUuid} /boot ext4 defaults 0 2\n`,
    );
    const disk = await buildDisk(join(dir, "split.raw"), {
      label: "dos",
      sizeMiB: 120,
      partitions: [
        { sizeMiB: 32, fs: "ext4", tree: boot, uuid: bootUuid, bootable: true },
        { sizeMiB: 80, fs: "ext4", tree: root, uuid: rootUuid },
      ],
    });
    const r = await prepareImage(disk.path);
    assert.equal(r.inspection.root?.partition, 2);
    assert.equal(r.inspection.root?.backend, "mount", "debugfs would not see /boot");
    assert.deepEqual(await leftovers(disk.path), []);
    const p1 = disk.partitions[0] as { offset: number };
    const grub = (await guestCat(disk.path, p1.offset, "/grub/grub.cfg")) ?? "";
    assert.match(grub, /linux\t\/boot\/vmlinuz-6\.1\.0-13-amd64 /);
    assert.doesNotMatch(grub, /console=ttyS0/, "disable-serial-console edited /boot's grub.cfg");
    assert.match(grub, /net\.ifnames=0/, "so did disable-predictable-network-interface-naming");
  });
});
