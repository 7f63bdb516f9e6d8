/**
 * @module qemu/disk-layout — snf-image's `FixPartitionTable` as a plan: the last partition grown to 2048
 * sectors before the disk's end, a swap partition from the `SWAP` property carved from the end.
 */
import type { Partition, PartitionTable } from "@icaas/imageprep";

/** The `SWAP` image property: `<partition number>:<size in MiB>`. */
export interface SwapSpec {
  number: number;
  mib: number;
}

/** A partition's new extent, in sectors. */
export interface Extent {
  number: number;
  start: number;
  size: number;
}

export interface GrowPlan {
  /** Partitions to resize in this order (an MBR extended container before its last logical). */
  resize: Extent[];
  /** The data partition whose filesystem grows with it. */
  grown?: Extent;
  swap?: Extent;
}

/** Sectors snf-image leaves after the last partition ("-2049s"): alignment slack and GPT's backup header. */
const TAIL_SECTORS = 2048;
const SECTORS_PER_MIB = 2048;

/** Parses `SWAP` as snf-image does; undefined when unset, an Error when malformed. */
export function parseSwap(value: string | undefined): SwapSpec | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const m = /^([1-9]\d*):([1-9]\d*)$/.exec(value.trim());
  if (!m) throw new Error(`SWAP property '${value}' is not valid`);
  return { number: Number(m[1]), mib: Number(m[2]) };
}

function end(p: { start: number; size: number }): number {
  return p.start + p.size - 1;
}

/**
 * Plans the table of a disk of `diskSectors` sectors holding `table` (512-byte sectors). Only what
 * snf-image supports for Linux: the last partition primary, logical (its extended container grows too) or
 * GPT; a swap partition as a primary (MBR 1–4) or a GPT entry.
 */
export function planGrow(table: PartitionTable, diskSectors: number, swap?: SwapSpec): GrowPlan {
  if (table.sectorSize !== 512) throw new Error(`sector size ${table.sectorSize} is not supported`);
  const data = table.partitions.filter((p) => p.kind !== "extended");
  if (data.length === 0) throw new Error("the image holds no partition");
  let last: Partition = data[0] as Partition;
  for (const p of data) if (end(p) > end(last)) last = p;
  let newEnd = diskSectors - 1 - TAIL_SECTORS;
  const plan: GrowPlan = { resize: [] };
  if (swap) {
    if (table.partitions.some((p) => p.number === swap.number))
      throw new Error(`SWAP partition ${swap.number} exists already`);
    if (table.label === "dos" && swap.number > 4)
      throw new Error(`SWAP partition ${swap.number}: only a primary swap partition (1-4) is supported`);
    const start = newEnd - swap.mib * SECTORS_PER_MIB + 1;
    if (start <= end(last)) throw new Error("Not enough space for swap partition");
    plan.swap = { number: swap.number, start, size: newEnd - start + 1 };
    newEnd = start - 1;
  }
  if (newEnd < end(last)) throw new Error("the disk is smaller than the image");
  if (last.logical) {
    const container = table.partitions.find(
      (e) => e.kind === "extended" && e.start <= last.start && last.start <= end(e),
    );
    if (container)
      plan.resize.push({
        number: container.number,
        start: container.start,
        size: newEnd - container.start + 1,
      });
  }
  const grown = { number: last.number, start: last.start, size: newEnd - last.start + 1 };
  if (grown.size > last.size) {
    plan.resize.push(grown);
    plan.grown = grown;
  }
  return plan;
}
