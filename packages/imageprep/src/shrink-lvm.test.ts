/** @module shrink-lvm.test — shrink inside LVM on real volume groups (no device-mapper): filesystem, volume, moved volumes, PV, partition, file; refused layouts untouched. */
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isImagePrepError } from "./errors.ts";
import { verifyFreeBlocksZero } from "./free-blocks.ts";
import { probeFilesystem } from "./fs-probe.ts";
import { GuestMount } from "./guest-fs/mount/guest-mount.ts";
import { privateLvmConf, readVolumeGroup, type VolumeGroup } from "./guest-fs/mount/lvm.ts";
import { inspectImage } from "./inspect.ts";
import { readPartitionTable } from "./partitions.ts";
import { prepareImage } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import { shrinkImage } from "./shrink.ts";
import {
  assertExtClean,
  assertTableClean,
  buildDisk,
  buildFamilyDisk,
  buildLvmTestDisk,
  fileContains,
  guestCat,
  leftovers,
  tempFiles,
} from "./testing/index.ts";

const MiB = 1 << 20;
const EXTENT = 4 * MiB;

/** The VG on partition 2 as the private LVM environment reads it, and what vgck and pvck say of it. */
async function readBack(
  image: string,
  partition = 2,
): Promise<{ vg: VolumeGroup; pvBytes: number; checks: string[] }> {
  const table = await readPartitionTable(image);
  const pv = table?.partitions.find((p) => p.number === partition);
  assert.ok(pv);
  const m = new GuestMount(image, { readOnly: true });
  const dir = await mkdtemp(join(tmpdir(), "icaas-lvm-check-"));
  try {
    const dev = await m.device({ ...pv, filesystem: { type: "lvm2" } });
    const vg = await readVolumeGroup(dev);
    assert.ok(vg, "the PV still holds its VG");
    await writeFile(join(dir, "lvm.conf"), privateLvmConf(dev));
    const env = { LVM_SYSTEM_DIR: dir, LVM_SUPPRESS_FD_WARNINGS: "1" };
    const checks: string[] = [];
    for (const [cmd, arg] of [
      ["vgck", vg.name],
      ["pvck", dev],
    ] as const) {
      const r = await runTool(cmd, [arg], { env, okCodes: [0, 5] });
      if (r.code !== 0) checks.push(`${cmd}: ${r.stdout}${r.stderr}`);
    }
    const size = await runTool(
      "pvs",
      ["--readonly", "--noheadings", "-o", "pv_size", "--units", "b", "--nosuffix", dev],
      { env },
    );
    return { vg, pvBytes: Number(size.stdout.trim()), checks };
  } finally {
    await m.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function extentsOf(vg: VolumeGroup, name: string): { at: number; count: number } {
  const lv = vg.volumes.find((v) => v.name === name);
  assert.ok(lv, `volume ${name} is still there`);
  assert.equal(lv.segments.length, 1);
  const [s] = lv.segments as [(typeof lv.segments)[0]];
  return { at: s.pvStartPe as number, count: s.sizePe };
}

describe("shrink inside LVM (filesystem, volume, PV, partition) without device-mapper", () => {
  const tempFile = tempFiles("icaas-shrink-lvm-");

  it("shrinks an ext root volume, recreates swap_1 and moves a data volume down, then cuts the PV and the partition", async () => {
    const marker = `LVM-SECRET-${Math.random().toString(36).slice(2)}`;
    const disk = await buildLvmTestDisk(tempFile("debian-lvm.raw"), { data: true, marker });
    const osRelease = await guestCat(disk.path, disk.volumes.root?.offset as number, "/usr/lib/os-release");
    assert.ok(osRelease?.includes("Debian"));
    const prepared = await prepareImage(disk.path);
    assert.equal(prepared.metadata.ROOT_PARTITION, "2");
    assert.ok(!(await fileContains(disk.path, marker)), "prepare removed the marker");

    const lines: string[] = [];
    const tmpBefore = (await readdir(tmpdir())).filter((n) => n.startsWith("icaas-lvm-"));
    const r = await shrinkImage(disk.path, { log: (l) => lines.push(l) });
    assert.equal(r.partition, 2);
    assert.equal(r.skipped, undefined);
    assert.equal(r.swap, undefined, "a swap volume stays in the image (no SWAP metadata)");
    assert.equal(r.oldSize, disk.size);

    const { vg, pvBytes, checks } = await readBack(disk.path);
    assert.deepEqual(checks, [], "vgck and pvck find nothing wrong");
    const root = extentsOf(vg, "root");
    const swap = extentsOf(vg, "swap_1");
    const data = extentsOf(vg, "data");
    assert.equal(root.at, 0);
    assert.ok(root.count < 40 && root.count >= 2, `the root volume shrank from 40 extents to ${root.count}`);
    assert.deepEqual(swap, { at: root.count, count: 4 }, "swap_1 follows the root, same size");
    assert.deepEqual(data, { at: root.count + 4, count: 2 }, "data follows swap_1, same size");
    const used = root.count + 4 + 2;
    assert.equal(pvBytes, used * EXTENT, "the PV ends after its last used extent");

    const table = await readPartitionTable(disk.path);
    const p2 = table?.partitions.find((p) => p.number === 2);
    assert.ok(p2);
    assert.equal(p2.offset, disk.partitions[1]?.offset, "the partition keeps its start");
    assert.equal(p2.bytes, MiB + used * EXTENT, "the partition ends with the PV");
    assert.equal(r.newSize, p2.offset + p2.bytes + MiB);
    assert.ok(r.newSize < disk.size / 2, `the image shrank: ${disk.size} → ${r.newSize}`);
    await assertTableClean(disk.path);

    // Everything is where the new metadata says, and intact.
    const at = (pe: number) => p2.offset + MiB + pe * EXTENT;
    await assertExtClean(disk.path, at(0));
    const rootFs = await probeFilesystem(disk.path, at(0), root.count * EXTENT);
    assert.equal(rootFs.uuid, disk.rootUuid);
    assert.ok(
      (rootFs.blockCount as number) * (rootFs.blockSize as number) > (root.count - 1) * EXTENT,
      "the volume is the filesystem rounded up to whole extents",
    );
    assert.equal(await guestCat(disk.path, at(0), "/usr/lib/os-release"), osRelease);
    const swapFs = await probeFilesystem(disk.path, at(swap.at), swap.count * EXTENT);
    assert.deepEqual([swapFs.type, swapFs.uuid, swapFs.label], ["swap", disk.swapUuid, "swap1"]);
    await assertExtClean(disk.path, at(data.at));
    assert.equal(await guestCat(disk.path, at(data.at), "/hello.txt"), disk.dataText);
    assert.ok(!(await fileContains(disk.path, marker)));

    // The guest is found again through its LVM, with the same OS.
    const again = await inspectImage(disk.path);
    assert.equal(again.unsupported, undefined);
    assert.deepEqual(again.root?.lvm, { vg: "testvg", lv: "root" });
    assert.equal(again.os?.distro, "debian");

    assert.ok(lines.some((l) => /LVM swap volume testvg\/swap_1 recreated/.test(l)));
    assert.ok(lines.some((l) => /LVM volume testvg\/data moved from extent 44 to/.test(l)));
    assert.ok(lines.some((l) => /LVM physical volume on partition 2: 46 → \d+ extents/.test(l)));
    assert.deepEqual(await leftovers(disk.path), []);
    const tmpAfter = (await readdir(tmpdir())).filter((n) => n.startsWith("icaas-lvm-"));
    assert.deepEqual(
      tmpAfter.filter((n) => !tmpBefore.includes(n) && !n.startsWith("icaas-lvm-check-")),
      [],
      "the private LVM directory is gone",
    );
  });

  it("shrinks a PV in a logical partition (Debian's MBR layout) and ends the extended partition with it", async () => {
    const disk = await buildLvmTestDisk(tempFile("logical.raw"), { logical: true });
    const r = await shrinkImage(disk.path);
    assert.deepEqual([r.partition, r.skipped], [5, undefined]);
    const { vg, pvBytes, checks } = await readBack(disk.path, 5);
    assert.deepEqual(checks, []);
    const root = extentsOf(vg, "root");
    assert.deepEqual(extentsOf(vg, "swap_1"), { at: root.count, count: 4 });
    assert.equal(pvBytes, (root.count + 4) * EXTENT);
    const table = await readPartitionTable(disk.path);
    const p5 = table?.partitions.find((p) => p.number === 5);
    const ext = table?.partitions.find((p) => p.kind === "extended");
    assert.ok(p5 && ext);
    assert.equal(p5.bytes, MiB + pvBytes);
    assert.equal(ext.start + ext.size, p5.start + p5.size, "the extended partition ends with the PV");
    assert.equal(r.newSize, p5.offset + p5.bytes + MiB);
    await assertTableClean(disk.path);
    await assertExtClean(disk.path, p5.offset + MiB);
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("shrinks a PV on GPT and moves the backup header to the new end", async () => {
    const disk = await buildLvmTestDisk(tempFile("gpt.raw"), { gpt: true, data: true });
    const r = await shrinkImage(disk.path);
    assert.deepEqual([r.partition, r.skipped], [2, undefined]);
    const { vg, pvBytes, checks } = await readBack(disk.path);
    assert.deepEqual(checks, []);
    const root = extentsOf(vg, "root");
    assert.equal(pvBytes, (root.count + 4 + 2) * EXTENT);
    const p2 = (await readPartitionTable(disk.path))?.partitions.find((p) => p.number === 2);
    assert.equal(p2?.bytes, MiB + pvBytes);
    assert.equal(r.newSize, (p2?.offset as number) + (p2?.bytes as number) + MiB);
    await assertTableClean(disk.path, "gpt");
    const data = extentsOf(vg, "data");
    assert.equal(
      await guestCat(disk.path, (p2?.offset as number) + MiB + data.at * EXTENT, "/hello.txt"),
      disk.dataText,
    );
  });

  it("leaves a volume group it cannot rewrite untouched and says why (a root of two segments)", async () => {
    const disk = await buildLvmTestDisk(tempFile("two-segments.raw"), { rootExtendedMiB: 8 });
    const before = await readBack(disk.path);
    const lines: string[] = [];
    const r = await shrinkImage(disk.path, { log: (l) => lines.push(l) });
    assert.equal(
      r.skipped,
      "LVM on partition 2 is not shrunk: LVM volume testvg/root has 2 segments (only one linear segment is handled)",
    );
    assert.ok(lines.includes(`shrink: ${r.skipped}`));
    assert.equal(r.partition, undefined);
    assert.equal(r.newSize, r.oldSize, "the disk already ended 1 MiB after the PV");
    const afterShrink = await readBack(disk.path);
    assert.deepEqual(afterShrink.vg, before.vg, "the metadata is unchanged");
    assert.equal(afterShrink.pvBytes, before.pvBytes);
    await assertExtClean(disk.path, disk.volumes.root?.offset as number);
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("leaves a volume group spanning two PVs untouched and says why", async () => {
    const path = tempFile("two-pvs.raw");
    const disk = await buildDisk(path, {
      label: "dos",
      sizeMiB: 64,
      partitions: [
        { sizeMiB: 24, fs: "none", type: "8e" },
        { sizeMiB: 24, fs: "none", type: "8e" },
      ],
    });
    const m = new GuestMount(path, {});
    const conf = await mkdtemp(join(tmpdir(), "icaas-lvm-check-"));
    try {
      const devs = [];
      for (const p of disk.partitions) devs.push(await m.device({ ...p, filesystem: { type: "lvm2" } }));
      const [a, b] = devs as [string, string];
      await writeFile(
        join(conf, "lvm.conf"),
        privateLvmConf(a).replace(`"a|^${a}$|", `, `"a|^${a}$|", "a|^${b}$|", `),
      );
      const env = { LVM_SYSTEM_DIR: conf, LVM_SUPPRESS_FD_WARNINGS: "1" };
      await runTool("pvcreate", ["-q", a, b], { env });
      await runTool("vgcreate", ["-q", "-s", "4m", "twovg", a, b], { env });
    } finally {
      await m.close();
      await rm(conf, { recursive: true, force: true });
    }
    const r = await shrinkImage(path);
    assert.equal(
      r.skipped,
      "LVM on partition 2 is not shrunk: volume group twovg spans 2 physical volumes (only one is handled)",
    );
    assert.equal(r.partition, undefined);
    assert.equal((await readPartitionTable(path))?.partitions[1]?.bytes, 24 * MiB);
    assert.deepEqual(await leftovers(path), []);
  });

  it("cuts only the free extents after an XFS root volume (XFS cannot shrink) and says so", async () => {
    const disk = await buildFamilyDisk(tempFile("rhel-lvm.raw"), "rhel-lvm", "XFS-LVM");
    const r = await shrinkImage(disk.path);
    assert.equal(
      r.skipped,
      "XFS cannot shrink: LVM volume rl/root keeps its size, only the free extents of the physical volume on partition 2 are cut",
    );
    assert.equal(r.partition, 2);
    const { vg, pvBytes, checks } = await readBack(disk.path);
    assert.deepEqual(checks, []);
    assert.deepEqual(extentsOf(vg, "root"), { at: 0, count: 80 });
    assert.deepEqual(extentsOf(vg, "swap"), { at: 80, count: 4 });
    assert.equal(pvBytes, 84 * EXTENT);
    const p2 = (await readPartitionTable(disk.path))?.partitions.find((p) => p.number === 2);
    assert.equal(p2?.bytes, MiB + 84 * EXTENT);
    assert.equal(r.newSize, (p2?.offset as number) + (p2?.bytes as number) + MiB);
    await assertTableClean(disk.path);
    const again = await inspectImage(disk.path);
    assert.equal(again.os?.distro, "rocky");
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("the scrub check reads the free blocks of ext volumes too, and names the volume", async () => {
    const disk = await buildLvmTestDisk(tempFile("dirty.raw"));
    const root = disk.volumes.root as { offset: number; bytes: number };
    assert.deepEqual(
      (await verifyFreeBlocksZero(disk.path)).map((r) => [r.partition, r.volume]),
      [
        [1, undefined],
        [2, "testvg/root"],
      ],
    );
    const leak = "LEFT-IN-A-FREE-BLOCK-OF-THE-LV";
    const fh = await open(disk.path, "r+");
    await fh.write(Buffer.from(leak), 0, leak.length, root.offset + root.bytes - 64 * 1024);
    await fh.close();
    await assert.rejects(verifyFreeBlocksZero(disk.path), (e) => {
      assert.ok(isImagePrepError(e, "scrub_failed"), String(e));
      assert.match(e.message, /^1 free block\(s\) of LVM volume testvg\/root still hold data/);
      return true;
    });
    assert.deepEqual(await leftovers(disk.path), []);
  });

  it("releases its loop devices when cancelled half-way", async () => {
    const disk = await buildLvmTestDisk(tempFile("cancel.raw"), { data: true });
    const ac = new AbortController();
    await assert.rejects(
      shrinkImage(disk.path, {
        signal: ac.signal,
        log: (l) => {
          if (/LVM volume testvg\/root:/.test(l)) ac.abort();
        },
      }),
    );
    assert.ok(ac.signal.aborted);
    assert.deepEqual(await leftovers(disk.path), []);
  });
});
