/**
 * @module bench/imageprep/layouts — prepare + shrink time on the other layouts: the RHEL/SUSE fixture disks
 * (XFS root, btrfs root in openSUSE's snapshot subvolume, XFS root in LVM) and, when they are built already
 * (tests/vm's cache), the bootable Debian 12 sources with the root on XFS, on btrfs and on ext4 in LVM.
 * The LVM rows shrink inside the PV: ext4 in debian-vg/root shrinks (volume, PV, partition: expect
 * `shrunkPartition` 2 and no `skipped`); XFS in rl/root keeps its size and only the PV's free extents
 * are cut (`shrunkPartition` 2, `skipped` "XFS cannot shrink: LVM volume rl/root keeps its size, …").
 * Needs root (loop devices and mounts).
 */
import { spawnSync } from "node:child_process";
import { rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { prepareImage, shrinkImage } from "@icaas/imageprep";
import { buildFamilyDisk } from "@icaas/imageprep/testing";
import {
  cachedBootableSource,
  type SourceVariant,
  variantName,
} from "../../tests/vm/source/bootable-source.ts";

export interface LayoutResult {
  disk: string;
  root: string;
  sizeBytes: number;
  allocatedBytes: number;
  prepareSeconds: number;
  shrinkSeconds: number;
  newSize: number;
  shrunkPartition?: number;
  skipped?: string;
}

function seconds(since: bigint): number {
  return Number(((Number(process.hrtime.bigint() - since) / 1e9) as number).toFixed(3));
}

async function measure(disk: string, root: string, image: string): Promise<LayoutResult> {
  const st = await stat(image);
  const t0 = process.hrtime.bigint();
  const prepared = await prepareImage(image);
  const prepareSeconds = seconds(t0);
  const t1 = process.hrtime.bigint();
  const shrunk = prepared.shrink ? await shrinkImage(image) : undefined;
  const shrinkSeconds = seconds(t1);
  const r: LayoutResult = {
    disk,
    root,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    prepareSeconds,
    shrinkSeconds,
    newSize: shrunk?.newSize ?? st.size,
  };
  if (shrunk?.partition !== undefined) r.shrunkPartition = shrunk.partition;
  if (shrunk?.skipped) r.skipped = shrunk.skipped;
  console.log(
    `  ${disk} (${root}): prepare ${prepareSeconds.toFixed(2)} s, shrink ${shrinkSeconds.toFixed(2)} s, ${st.size} → ${r.newSize} bytes${r.skipped ? ` (${r.skipped})` : ""}`,
  );
  return r;
}

const FAMILIES = [
  { family: "rhel", root: "XFS partition" },
  { family: "suse", root: "btrfs, root in @/.snapshots/1/snapshot" },
  { family: "rhel-lvm", root: "XFS in LVM volume rl/root" },
] as const;

const SOURCES: Array<{ variant: SourceVariant; root: string }> = [
  { variant: { fs: "xfs" }, root: "XFS partition" },
  { variant: { fs: "btrfs" }, root: "btrfs subvolume @" },
  { variant: { fs: "ext4", lvm: true }, root: "ext4 in LVM volume debian-vg/root" },
];

/** Measures each layout on disks made in `work`. */
export async function benchLayouts(work: string): Promise<LayoutResult[]> {
  const out: LayoutResult[] = [];
  for (const f of FAMILIES) {
    const image = join(work, `${f.family}.raw`);
    await buildFamilyDisk(image, f.family, "BENCH-MARKER");
    out.push(await measure(`${f.family} fixture (420 MiB)`, f.root, image));
  }
  for (const s of SOURCES) {
    const source = cachedBootableSource(s.variant);
    if (!source) {
      console.log(`  Debian 12 ${variantName(s.variant)}: not built yet (run the VM tests first); skipped`);
      continue;
    }
    const image = join(work, `${variantName(s.variant)}.raw`);
    const unzip = spawnSync("unzip", ["-q", "-o", "-j", source.zip, source.manifest.vmdk, "-d", work]);
    if (unzip.status !== 0) throw new Error(`unzip ${source.zip} failed: ${unzip.stderr}`);
    const vmdkPath = join(work, basename(source.manifest.vmdk));
    const conv = spawnSync("qemu-img", ["convert", "-O", "raw", vmdkPath, image]);
    if (conv.status !== 0) throw new Error(`qemu-img convert failed: ${conv.stderr}`);
    await rm(vmdkPath);
    out.push(await measure(`Debian 12 source ${variantName(s.variant)} (1536 MiB)`, s.root, image));
    await rm(image);
  }
  return out;
}
