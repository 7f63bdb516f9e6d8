/** @module shrink.test — acceptance tests: prepare + shrink on MBR/GPT, swap or not, 1 KiB/4 KiB blocks, read back with debugfs. */
import assert from "node:assert/strict";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspectImage } from "./inspect.ts";
import { readPartitionTable } from "./partitions.ts";
import { prepareImage } from "./prepare.ts";
import { shrinkImage } from "./shrink.ts";
import {
  assertExtClean,
  assertTableClean,
  buildDisk,
  buildFamilyDisk,
  buildTestDisk,
  checkFilesystem,
  fileContains,
  leftovers,
  verifyPreparedDebian,
} from "./testing/index.ts";

const MiB = 1 << 20;

describe("prepare + shrink on MBR and GPT disks, with and without swap, 1 KiB and 4 KiB blocks", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-shrink-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<{
    label: "dos" | "gpt";
    swap: boolean;
    blockSize: 1024 | 4096;
    logical?: boolean | "swap";
    biosBoot?: boolean;
  }> = [];
  for (const label of ["dos", "gpt"] as const) {
    for (const swap of [true, false])
      for (const blockSize of [1024, 4096] as const) cases.push({ label, swap, blockSize });
  }
  cases.push({ label: "dos", swap: true, blockSize: 4096, logical: true });
  cases.push({ label: "dos", swap: true, blockSize: 1024, logical: "swap" });
  cases.push({ label: "gpt", swap: true, blockSize: 1024, biosBoot: true });

  for (const c of cases) {
    const name = `${c.label === "dos" ? "MBR" : "GPT"}${c.logical === true ? " (root and swap logical)" : c.logical === "swap" ? " (swap logical, extended emptied)" : ""}${c.biosBoot ? " (BIOS boot partition first)" : ""}, ${c.swap ? "trailing swap" : "no swap"}, ${c.blockSize}-byte blocks`;
    it(name, async () => {
      const marker = `ICAAS-SECRET-${c.label}-${c.blockSize}-${Math.random().toString(36).slice(2)}`;
      const path = join(dir, `${c.label}-${c.swap}-${c.blockSize}-${c.logical ?? ""}${c.biosBoot ?? ""}.raw`);
      const disk = await buildTestDisk({ path, ...c, marker });
      const before = await readPartitionTable(path);
      assert.ok(await fileContains(path, marker), "the marker is in the image before preparation");

      const prepared = await prepareImage(path);
      assert.equal(prepared.metadata.USERS, "root admin alice nopass", "exactly the users that could log in");
      assert.equal(prepared.metadata.ROOT_PARTITION, String(disk.rootPartition));
      assert.equal(prepared.metadata.PARTITION_TABLE, c.label === "dos" ? "msdos" : "gpt");
      assert.ok(!(await fileContains(path, marker)), "the marker is gone after prepare (discard)");

      const shrunk = await shrinkImage(path);
      assert.equal(shrunk.swap, c.swap ? `${disk.swapPartition}:16` : undefined);
      assert.equal(shrunk.partition, disk.rootPartition);
      assert.equal(shrunk.oldSize, 96 * MiB);

      const after = await readPartitionTable(path);
      assert.ok(after);
      const root = after.partitions.find((p) => p.number === disk.rootPartition);
      assert.ok(root);
      const last = after.partitions.reduce((a, p) => (p.start + p.size > a.start + a.size ? p : a));
      assert.equal(last.start + last.size, root.start + root.size, "the root is the last partition");
      const size = (await stat(path)).size;
      assert.equal(shrunk.newSize, size);
      assert.equal(
        size,
        (root.start + root.size) * 512 + MiB,
        "image = end of the last partition + 1 MiB slack",
      );
      assert.ok(size < 40 * MiB, `image shrank (${size} bytes)`);
      assert.equal(
        after.partitions.some((p) => p.kind === "swap"),
        false,
      );
      // The start, the disk id, the boot flag and the GUIDs stay.
      const was = before?.partitions.find((p) => p.number === disk.rootPartition);
      assert.equal(root.start, was?.start);
      assert.equal(after.id, before?.id);
      assert.equal(root.bootable, was?.bootable);
      assert.equal(root.uuid, was?.uuid);
      assert.equal(root.name, was?.name);
      if (c.biosBoot) assert.deepEqual(after.partitions[0], before?.partitions[0]);
      if (c.logical === "swap") {
        assert.equal(after.partitions.length, 1, "the emptied extended partition went with the swap");
      }
      if (c.logical === true) {
        const ext = after.partitions.find((p) => p.kind === "extended");
        assert.equal(
          ext && ext.start + ext.size,
          root.start + root.size,
          "the extended partition ends with the logical one",
        );
      }

      await assertExtClean(path, root.offset);
      await assertTableClean(path, c.label);
      const uuid = prepared.inspection.root?.filesystem.uuid as string;
      await verifyPreparedDebian(path, root.offset, uuid);
      assert.ok(!(await fileContains(path, marker)), "the marker is not in the shrunk image either");
      const st = await stat(path);
      assert.ok(st.blocks * 512 < size, "the image stays sparse");
    });
  }
});

describe("shrink edge cases", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-shrink-edge-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("shrinks an image nobody prepared (checks the filesystem itself)", async () => {
    const disk = await buildTestDisk({ path: join(dir, "plain.raw"), swap: false, blockSize: 4096 });
    const r = await shrinkImage(disk.path);
    assert.equal(r.swap, undefined);
    assert.ok(r.newSize < r.oldSize);
    await assertExtClean(disk.path, disk.rootOffset);
    await assertTableClean(disk.path, "dos");
  });

  it("drops a trailing swap after a filesystem it cannot shrink, and keeps that filesystem whole", async () => {
    const path = join(dir, "xfs.raw");
    await buildDisk(path, {
      label: "gpt",
      sizeMiB: 64,
      partitions: [
        { sizeMiB: 30, fs: "xfs" },
        { sizeMiB: 16, fs: "swap" },
      ],
    });
    const head = async () => {
      const fh = await open(path, "r");
      const b = Buffer.alloc(8);
      await fh.read(b, 0, 8, MiB);
      await fh.close();
      return b.toString("latin1");
    };
    const r = await shrinkImage(path);
    assert.equal(r.swap, "2:16");
    assert.match(r.skipped ?? "", /^XFS cannot shrink: partition 1 keeps its size/);
    assert.equal(r.newSize, 31 * MiB + MiB);
    assert.equal((await head()).slice(0, 4), "XFSB");
    await assertTableClean(path, "gpt");
  });

  it("after dropping a logical swap, ends the extended partition with the logical one it keeps", async () => {
    const path = join(dir, "logical-xfs.raw");
    await buildDisk(path, {
      label: "dos",
      sizeMiB: 64,
      partitions: [
        { sizeMiB: 8, fs: "ext4" },
        { sizeMiB: 20, fs: "xfs", logical: true },
        { sizeMiB: 16, fs: "swap", logical: true },
      ],
    });
    const r = await shrinkImage(path);
    assert.equal(r.swap, "6:16");
    const t = await readPartitionTable(path);
    const ext = t?.partitions.find((p) => p.kind === "extended");
    const five = t?.partitions.find((p) => p.number === 5);
    assert.ok(ext && five);
    assert.equal(ext.start + ext.size, five.start + five.size);
    assert.equal(r.newSize, (five.start + five.size) * 512 + MiB);
    await assertTableClean(path, "dos");
  });

  it("keeps an XFS filesystem whole (XFS cannot shrink) and cuts only the unallocated space after it", async () => {
    const path = join(dir, "xfs-only.raw");
    await buildDisk(path, { label: "dos", sizeMiB: 80, partitions: [{ sizeMiB: 40, fs: "xfs" }] });
    const lines: string[] = [];
    const r = await shrinkImage(path, { log: (l) => lines.push(l) });
    assert.deepEqual([r.oldSize, r.newSize, r.swap], [80 * MiB, 41 * MiB + MiB, undefined]);
    assert.match(
      r.skipped ?? "",
      /^XFS cannot shrink: partition 1 keeps its size, only the unallocated space after it is cut$/,
    );
    assert.ok(lines.some((l) => l.includes("XFS cannot shrink")));
    assert.equal(await checkFilesystem(path, { offset: MiB, bytes: 40 * MiB }, "xfs"), "");
    await assertTableClean(path, "dos");
  });

  it("shrinks a btrfs root on its mount (openSUSE subvolumes), then the partition and the file", async () => {
    const disk = await buildFamilyDisk(join(dir, "btrfs.raw"), "suse", "SHRINK-MARKER");
    await prepareImage(disk.path);
    const lines: string[] = [];
    const r = await shrinkImage(disk.path, { log: (l) => lines.push(l) });
    assert.equal(r.swap, "2:16");
    assert.equal(r.partition, 1);
    assert.equal(r.skipped, undefined);
    const t = await readPartitionTable(disk.path);
    const p1 = t?.partitions.find((p) => p.number === 1);
    assert.ok(
      p1 && p1.bytes === 256 * MiB,
      `partition 1 shrunk to the 256 MiB btrfs floor (${p1?.bytes} bytes)`,
    );
    assert.equal(r.newSize, p1.offset + p1.bytes + MiB);
    assert.ok(lines.some((l) => /btrfs partition 1: \d+ → \d+ bytes/.test(l)));
    assert.equal(await checkFilesystem(disk.path, p1, "btrfs"), "");
    await assertTableClean(disk.path, "dos");
    // Still the same guest: inspection finds it in its snapshot subvolume.
    const again = await inspectImage(disk.path);
    assert.equal(again.root?.subvolume, "@/.snapshots/1/snapshot");
    assert.equal(again.os?.distro, "opensuse");
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("does not resize a partition that boots with syslinux (its loader would move)", async () => {
    const disk = await buildTestDisk({ path: join(dir, "syslinux.raw"), swap: true });
    const fh = await open(disk.path, "r+");
    await fh.write(Buffer.from("\xebXSYSLINUX", "latin1"), 0, 10, disk.rootOffset);
    await fh.close();
    const r = await shrinkImage(disk.path);
    assert.equal(r.swap, "2:16");
    assert.match(r.skipped ?? "", /syslinux/);
    assert.equal(r.newSize, disk.rootOffset + disk.rootBytes + MiB);
    await assertExtClean(disk.path, disk.rootOffset);
  });
});
