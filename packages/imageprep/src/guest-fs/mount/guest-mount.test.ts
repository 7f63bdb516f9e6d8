/** @module guest-mount.test — the mount backend on real XFS and btrfs: guest-side link resolution, edits, and nothing left mounted or attached after success, failure or abort. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isImagePrepError } from "../../errors.ts";
import { inspectImage } from "../../inspect.ts";
import { prepareImage } from "../../prepare.ts";
import { buildDisk, buildFamilyDisk, leftovers, withReadOnlyMounts, writeTree } from "../../testing/index.ts";
import { parseDefaultSubvolume, parseSubvolumeList } from "./btrfs.ts";
import { mountOptions, withMountedGuest } from "./guest-mount.ts";
import { losetupAttachArgs } from "./loop.ts";

describe("mount backend", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-mount-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds the losetup and mount command lines it runs", () => {
    assert.deepEqual(losetupAttachArgs("/x/disk.raw", 1048576, 209715200, true), [
      "--find",
      "--show",
      "--offset",
      "1048576",
      "--sizelimit",
      "209715200",
      "--read-only",
      "/x/disk.raw",
    ]);
    assert.equal(mountOptions("xfs", false), "nodev,nosuid,noexec,nouuid");
    assert.equal(mountOptions("xfs", true), "nodev,nosuid,noexec,ro,nouuid,norecovery");
    assert.equal(mountOptions("btrfs", false, "@"), "nodev,nosuid,noexec,subvol=/@");
    assert.equal(mountOptions("btrfs", true), "nodev,nosuid,noexec,ro,rescue=nologreplay,subvolid=5");
    assert.equal(mountOptions("ext4", true), "nodev,nosuid,noexec,ro,noload");
  });

  it("parses btrfs subvolume listings as btrfs-progs prints them", () => {
    // Printed by btrfs-progs 6.2 for the SUSE fixture disk.
    const list = [
      "ID 256 gen 9 top level 5 path @",
      "ID 257 gen 12 top level 256 path @/var",
      "ID 260 gen 12 top level 259 path @/.snapshots/1/snapshot",
      "",
    ].join("\n");
    assert.deepEqual(parseSubvolumeList(list), [
      { id: 256, path: "@" },
      { id: 257, path: "@/var" },
      { id: 260, path: "@/.snapshots/1/snapshot" },
    ]);
    assert.equal(parseDefaultSubvolume("ID 5 (FS_TREE)\n"), undefined);
    assert.deepEqual(parseDefaultSubvolume("ID 260 gen 12 top level 259 path @/.snapshots/1/snapshot\n"), {
      id: 260,
      path: "@/.snapshots/1/snapshot",
    });
  });

  it("resolves links inside the guest, never on the host, and edits keep owners and inodes", async () => {
    const tree = join(dir, "links");
    await writeTree(tree, {
      "/etc/fstab": "/dev/sda1 / xfs defaults 0 0\n",
      "/etc/shadow": { data: "root:$6$x:1::::::\n", mode: 0o640, gid: 42 },
      // Absolute targets mean the guest's root; /proc and ../../.. lead nowhere outside it.
      "/etc/host-hostname": { link: "/../../../../etc/hostname" },
      "/etc/environ": { link: "/proc/self/environ" },
      "/etc/hostname": "guest-name\n",
      "/fifo-dir": { dir: true },
    });
    const disk = await buildDisk(join(dir, "links.raw"), {
      label: "gpt",
      sizeMiB: 80,
      partitions: [{ sizeMiB: 64, fs: "xfs", tree, uuid: randomUUID() }],
    });
    const p = disk.partitions[0] as (typeof disk.partitions)[0];
    const root = { number: 1, offset: p.offset, bytes: p.bytes, filesystem: { type: "xfs" as const } };
    await withMountedGuest(disk.path, root, [], {}, async (fs) => {
      assert.equal(await fs.readText("/etc/host-hostname"), "guest-name\n");
      assert.equal(await fs.readText("/etc/environ"), undefined);
      const before = await fs.stat("/etc/shadow");
      await fs.writeFile("/etc/shadow", "root:!:1::::::\n");
      const after = await fs.stat("/etc/shadow");
      assert.deepEqual(after, { ...before, size: 15 } as typeof after, "same inode, mode and owner");
      await fs.mkdir("/srv/a/b", { parents: true, mode: 0o750, uid: 33, gid: 33 });
      await fs.symlink("/srv/link", "/srv/a", { uid: 1000, gid: 1000 });
      await fs.writeFile("/srv/link/b/new", "x", { mode: 0o600, uid: 7, gid: 8 });
      assert.equal(await fs.realpath("/srv/link/b/new"), "/srv/a/b/new");
      assert.equal(await fs.removeTrees(["/srv/a"]), 3);
      await assert.rejects(fs.remove("/fifo-dir"), (e) => isImagePrepError(e, "invalid_option"));
    });
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("unmounts and detaches when the work fails, and when a mount itself fails", async () => {
    const tree = join(dir, "fail");
    await writeTree(tree, { "/etc/fstab": "/dev/sda1 / btrfs defaults 0 0\n" });
    const disk = await buildDisk(join(dir, "fail.raw"), {
      label: "dos",
      sizeMiB: 160,
      partitions: [{ sizeMiB: 150, fs: "btrfs", tree }],
    });
    const p = disk.partitions[0] as (typeof disk.partitions)[0];
    const root = { number: 1, offset: p.offset, bytes: p.bytes, filesystem: { type: "btrfs" as const } };
    await assert.rejects(
      withMountedGuest(disk.path, root, [], {}, async () => {
        assert.ok((await leftovers(disk.path)).length >= 2, "mounted and attached while working");
        throw new Error("task blew up");
      }),
      /task blew up/,
    );
    assert.deepEqual(await leftovers(disk.path), []);
    // A filesystem the kernel refuses (XFS superblock says btrfs): the loop device still goes.
    const bad = { ...root, filesystem: { type: "xfs" as const } };
    await assert.rejects(
      withMountedGuest(disk.path, bad, [], {}, async () => undefined),
      (e) => isImagePrepError(e, "tool_failed"),
    );
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("leaves no mount or loop device when a prepare is aborted half-way, and the image stays mountable", async () => {
    const disk = await buildFamilyDisk(join(dir, "abort.raw"), "rhel", "ABORT-MARKER");
    const ac = new AbortController();
    await assert.rejects(
      prepareImage(disk.path, {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.phase === "tasks" && pr.task === "cleanup-passwords")
            ac.abort(new Error("cancelled by the user"));
        },
      }),
      /cancelled by the user/,
    );
    assert.deepEqual(await leftovers(disk.path), []);
    const [root] = disk.partitions;
    await withReadOnlyMounts(
      disk.path,
      [{ ...(root as (typeof disk.partitions)[0]), type: "xfs" }],
      async () => undefined,
    );
    // The tasks before the abort ran; a new prepare finishes the job.
    assert.equal((await inspectImage(disk.path)).os?.distro, "rocky");
    await prepareImage(disk.path);
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("refuses a corrupt XFS root at inspection without leaving its probe mounted", async () => {
    const tree = join(dir, "corrupt");
    await writeTree(tree, { "/etc/fstab": "/dev/sda1 / xfs defaults 0 0\n" });
    const disk = await buildDisk(join(dir, "corrupt.raw"), {
      label: "dos",
      sizeMiB: 80,
      partitions: [{ sizeMiB: 64, fs: "xfs", tree }],
    });
    const p = disk.partitions[0] as (typeof disk.partitions)[0];
    const fh = await open(disk.path, "r+");
    // Keep the XFSB magic, break the block size and AG geometry behind it.
    await fh.write(Buffer.alloc(64, 0xff), 0, 64, p.offset + 4);
    await fh.close();
    await assert.rejects(inspectImage(disk.path), (e) => isImagePrepError(e, "tool_failed"));
    assert.deepEqual(await leftovers(disk.path), []);
  });
});
