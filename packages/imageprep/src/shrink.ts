/** @module shrink — drops a trailing swap partition, shrinks the last ext or btrfs filesystem (XFS cannot shrink) and cuts the image after it. */
import { open, stat, truncate } from "node:fs/promises";
import { e2Spec } from "./discard.ts";
import { ImagePrepError } from "./errors.ts";
import { verifyFreeBlocksZero } from "./free-blocks.ts";
import { isExt, probeFilesystem } from "./fs-probe.ts";
import {
  containerOf,
  dataPartitions,
  type Partition,
  type PartitionTable,
  readPartitionTable,
} from "./partitions.ts";
import type { Progress } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import { shrinkBtrfs } from "./shrink-btrfs.ts";
import { shrinkExtFilesystem } from "./shrink-ext.ts";
import { shrinkLvmPv } from "./shrink-lvm.ts";

const MiB = 1 << 20;
/** Room left after the last partition: alignment slack, and where GPT keeps its backup header. */
export const SLACK_BYTES = MiB;
/** Free space left in the shrunk filesystem, as snf-image-creator does. */
export const EXTRA_FS_BYTES = 8 * MiB;

export interface ShrinkOptions {
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Where the partition is copied while it is resized (default: beside the image, else the system temp dir). */
  tmpDir?: string;
}

export interface ShrinkResult {
  oldSize: number;
  newSize: number;
  /** `"<number>:<MiB>"` of the trailing swap partition that was removed (the SWAP metadata). */
  swap?: string;
  /** The partition that was shrunk. */
  partition?: number;
  /** Why the filesystem was not shrunk, when it was not. */
  skipped?: string;
}

const SFDISK = [
  "--no-reread",
  "--no-tell-kernel",
  "--wipe",
  "never",
  "--wipe-partitions",
  "never",
  "--quiet",
];

function endSector(p: Partition): number {
  return p.start + p.size - 1;
}

/** The data partition that ends last, and an MBR extended container left empty after the data ones. */
function tail(table: PartitionTable): { last?: Partition; emptyExtended?: Partition } {
  let last: Partition | undefined;
  for (const p of dataPartitions(table)) if (!last || endSector(p) > endSector(last)) last = p;
  const emptyExtended = table.partitions.find(
    (e) => e.kind === "extended" && !table.partitions.some((l) => l.logical && containerOf(table, l) === e),
  );
  if (emptyExtended && (!last || endSector(emptyExtended) > endSector(last))) return { last, emptyExtended };
  return { last };
}

async function sfdiskDelete(image: string, n: number, signal?: AbortSignal): Promise<void> {
  await runTool("sfdisk", [...SFDISK, "--delete", image, String(n)], { signal });
}

async function sfdiskResize(image: string, n: number, sectors: number, signal?: AbortSignal): Promise<void> {
  // "-N n" with ",size" keeps the start, the type, the boot flag, GUIDs and names, and the disk id.
  await runTool("sfdisk", [...SFDISK, "-N", String(n), image], { input: `,${sectors}\n`, signal });
}

/** A syslinux/extlinux boot sector: its loader keeps block lists that resize2fs would break. */
async function hasSyslinuxVbr(image: string, offset: number): Promise<boolean> {
  const fh = await open(image, "r");
  try {
    const buf = Buffer.alloc(512);
    await fh.read(buf, 0, 512, offset);
    const text = buf.toString("latin1");
    return text.includes("SYSLINUX") || text.includes("EXTLINUX");
  } finally {
    await fh.close();
  }
}

/** Checks the table the way the acceptance tests do, so a broken table never leaves here. */
async function verifyTable(
  image: string,
  label: PartitionTable["label"],
  signal?: AbortSignal,
): Promise<void> {
  if (label === "gpt") {
    const r = await runTool("sgdisk", ["-v", image], { okCodes: [0, 1, 2, 3, 4], signal });
    if (!/No problems found/.test(r.stdout)) {
      throw new ImagePrepError("tool_failed", `the shrunk GPT does not verify: ${r.stdout.trim()}`, {
        tool: "sgdisk",
      });
    }
  } else {
    const r = await runTool("sfdisk", ["-V", image], { okCodes: [0, 1], signal });
    if (r.code !== 0 || !/No errors detected/.test(r.stdout)) {
      throw new ImagePrepError(
        "tool_failed",
        `the shrunk MBR does not verify: ${(r.stdout + r.stderr).trim()}`,
        { tool: "sfdisk" },
      );
    }
  }
}

/**
 * Shrinks a raw disk image in place, as snf-image-creator's `shrink` task: removes trailing swap
 * partitions (reporting the last as SWAP) and empty extended partitions, shrinks the last ext
 * filesystem to its minimum plus 8 MiB, rewrites the partition table (MBR keeps its disk id and boot
 * flag; GPT keeps its GUIDs and gets its backup header at the new end) and truncates the image to
 * the end of the last partition plus 1 MiB. Works without root: no mount, no loop device.
 *
 * @example
 * const { oldSize, newSize, swap } = await shrinkImage("disk.raw", { log: console.log });
 * if (swap) metadata.SWAP = swap;
 */
export async function shrinkImage(image: string, options: ShrinkOptions = {}): Promise<ShrinkResult> {
  const { signal } = options;
  const log = options.log ?? (() => undefined);
  e2Spec(image, 0);
  const oldSize = (await stat(image)).size;
  let table = await readPartitionTable(image, signal).catch((e: unknown) => {
    if (e instanceof ImagePrepError && e.code === "unsupported_image") return undefined;
    throw e;
  });
  if (!table) return { oldSize, newSize: oldSize, skipped: "the disk has no MBR or GPT partition table" };
  const label = table.label;

  let swap: string | undefined;
  let last: Partition | undefined;
  for (;;) {
    const t = tail(table);
    if (t.emptyExtended) {
      await sfdiskDelete(image, t.emptyExtended.number, signal);
      log(`shrink: removed the empty extended partition ${t.emptyExtended.number}`);
    } else if (
      t.last &&
      (t.last.kind === "swap" || (await probeFilesystem(image, t.last.offset, t.last.bytes)).type === "swap")
    ) {
      const mib = Math.floor(t.last.bytes / MiB);
      if (swap === undefined) swap = `${t.last.number}:${mib}`;
      await sfdiskDelete(image, t.last.number, signal);
      log(`shrink: removed the trailing swap partition ${t.last.number} (${mib} MiB)`);
    } else {
      last = t.last;
      break;
    }
    table = (await readPartitionTable(image, signal)) as PartitionTable;
  }
  const result: ShrinkResult = { oldSize, newSize: oldSize };
  if (swap) result.swap = swap;
  if (!last) {
    result.skipped = "no partition left to shrink";
    return result;
  }

  const fs = await probeFilesystem(image, last.offset, last.bytes);
  let sectors = last.size;
  if (fs.type === "btrfs") {
    const bytes = await shrinkBtrfs(image, last, EXTRA_FS_BYTES, options);
    sectors = Math.min(last.size, bytes / table.sectorSize);
    if (sectors < last.size) await sfdiskResize(image, last.number, sectors, signal);
    result.partition = last.number;
  } else if (fs.type === "lvm2") {
    const lvm = await shrinkLvmPv(image, last, EXTRA_FS_BYTES, options);
    sectors = Math.min(last.size, lvm.bytes / table.sectorSize);
    if (sectors < last.size) {
      await sfdiskResize(image, last.number, sectors, signal);
      result.partition = last.number;
    }
    if (lvm.skipped) result.skipped = lvm.skipped;
  } else if (fs.type === "xfs") {
    result.skipped = `XFS cannot shrink: partition ${last.number} keeps its size, only the unallocated space after it is cut`;
  } else if (!isExt(fs.type)) {
    result.skipped = `the last partition (${last.number}) holds ${fs.type}, not ext2/3/4 or btrfs; only the unallocated space after it is cut`;
  } else if (await hasSyslinuxVbr(image, last.offset)) {
    result.skipped = `partition ${last.number} boots with syslinux, whose loader resize2fs would move; the filesystem keeps its size`;
  } else {
    const resized = await shrinkExtFilesystem(
      image,
      { name: `partition ${last.number}`, offset: last.offset, bytes: last.bytes },
      fs,
      EXTRA_FS_BYTES,
      options,
    );
    sectors = Math.min(last.size, (resized.blocks * resized.blockSize) / table.sectorSize);
    if (sectors < last.size) await sfdiskResize(image, last.number, sectors, signal);
    result.partition = last.number;
  }
  if (result.skipped) log(`shrink: ${result.skipped}`);
  // A logical partition's extended container must end where it now ends, or the cut would split it.
  const ext = containerOf(table, last);
  if (ext && ext.start + ext.size !== last.start + sectors) {
    await sfdiskResize(image, ext.number, last.start + sectors - ext.start, signal);
  }
  const endBytes = (last.start + sectors) * table.sectorSize;

  const newSize = endBytes + SLACK_BYTES;
  if (newSize < oldSize) {
    // Cut first, then grow back: the slack must be holes, not what the old filesystem had there.
    await truncate(image, endBytes);
    await truncate(image, newSize);
    // The GPT backup header and entries lived at the old end of the disk.
    if (label === "gpt") await runTool("sgdisk", ["-e", image], { signal });
  }
  await verifyTable(image, label, signal);
  await verifyFreeBlocksZero(image, { signal });
  result.newSize = (await stat(image)).size;
  options.onProgress?.({ phase: "shrink", done: 4, total: 4 });
  log(`shrink: image ${oldSize} → ${result.newSize} bytes`);
  return result;
}
