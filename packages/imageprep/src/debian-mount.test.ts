/** @module debian-mount.test — the Debian 12 fixture on XFS and on btrfs (Ubuntu's @/@home layout): the same preparation as on ext4, through the mount backend. */
import assert from "node:assert/strict";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareImage } from "./prepare.ts";
import {
  assertNoSecretLeft,
  buildTestDisk,
  checkFilesystem,
  DEBIAN_FIXTURE_METADATA,
  fileContains,
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
});
