/** @module free-blocks — proves that every free block of every ext filesystem in an image reads as zero. */
import { open } from "node:fs/promises";
import { e2Spec } from "./discard.ts";
import { ImagePrepError } from "./errors.ts";
import { isExt, probeFilesystem } from "./fs-probe.ts";
import { lvmVolumes } from "./lvm-volumes.ts";
import { dataPartitions, readPartitionTable } from "./partitions.ts";
import { runTool } from "./run-tool.ts";

/** A byte range `[start, end)` of the image file. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Inclusive block ranges `[first, last]` that the filesystem's bitmaps mark free. */
export type BlockRange = [first: number, last: number];

/**
 * The free blocks of the ext filesystem at `offset`, from `dumpe2fs`'s per-group "Free blocks:" lines
 * (it reads the real bitmaps, and computes those of uninitialised groups).
 */
export async function freeBlockRanges(
  image: string,
  offset: number,
  signal?: AbortSignal,
): Promise<{ blockSize: number; ranges: BlockRange[] }> {
  const r = await runTool("dumpe2fs", [e2Spec(image, offset)], { signal });
  const bs = /^Block size:\s+(\d+)$/m.exec(r.stdout);
  if (!bs) throw new ImagePrepError("tool_failed", "dumpe2fs printed no block size", { tool: "dumpe2fs" });
  const ranges: BlockRange[] = [];
  // Group lines are indented; the superblock's "Free blocks: N" count is not.
  for (const m of r.stdout.matchAll(/^\s+Free blocks:[ \t]*(.*)$/gm)) {
    for (const part of (m[1] ?? "").split(",")) {
      const t = part.trim();
      if (!t) continue;
      const [a, b] = t.split("-");
      ranges.push([Number(a), Number(b ?? a)]);
    }
  }
  return { blockSize: Number(bs[1]), ranges };
}

/**
 * Where the image file may hold data: `qemu-img map` asks the kernel (SEEK_DATA/SEEK_HOLE) and
 * reports holes as zero, so only allocated ranges need reading. Flushed first: a mapping taken while
 * writeback runs could miss data still in the page cache.
 */
export async function dataRanges(image: string, signal?: AbortSignal): Promise<ByteRange[]> {
  const fh = await open(image, "r");
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const r = await runTool("qemu-img", ["map", "--output=json", "-f", "raw", image], { signal });
  const map = JSON.parse(r.stdout) as Array<{ start: number; length: number; data: boolean; zero: boolean }>;
  const out: ByteRange[] = [];
  for (const e of map) {
    if (!e.data || e.zero) continue;
    const last = out[out.length - 1];
    if (last && last.end === e.start) last.end += e.length;
    else out.push({ start: e.start, end: e.start + e.length });
  }
  return out;
}

/** A filesystem to check: its partition (0: a bare filesystem), where it starts, the LVM volume it is in. */
interface CheckedFs {
  number: number;
  offset: number;
  volume?: string;
}

/** What a check found on one filesystem. */
export interface FreeBlockReport {
  /** Partition number (0 for a bare filesystem). */
  partition: number;
  /** `vg/lv` when the filesystem is in this LVM volume on `partition`. */
  volume?: string;
  freeBytes: number;
  /** Bytes of free blocks that were allocated in the file, hence read. */
  bytesRead: number;
  /** Free blocks holding anything but zeros. */
  dirtyBlocks: number;
  /** The first few of them. */
  examples: number[];
}

const CHUNK = 1 << 20;
const ZERO = Buffer.alloc(CHUNK);

/**
 * Reads the free blocks of the filesystem at `offset` that `data` says are allocated in the file,
 * and counts those that are not all zeros.
 */
export async function checkFreeBlocks(
  image: string,
  offset: number,
  data: ByteRange[],
  partition = 0,
  signal?: AbortSignal,
): Promise<FreeBlockReport> {
  const { blockSize, ranges } = await freeBlockRanges(image, offset, signal);
  const report: FreeBlockReport = { partition, freeBytes: 0, bytesRead: 0, dirtyBlocks: 0, examples: [] };
  const fh = await open(image, "r");
  const buf = Buffer.alloc(CHUNK);
  try {
    let d = 0;
    for (const [first, last] of ranges) {
      const start = offset + first * blockSize;
      const end = offset + (last + 1) * blockSize;
      report.freeBytes += end - start;
      while (d < data.length && (data[d] as ByteRange).end <= start) d++;
      for (let i = d; i < data.length && (data[i] as ByteRange).start < end; i++) {
        const e = data[i] as ByteRange;
        // Whole blocks only: a data extent may start or end inside one.
        let pos = Math.max(start, offset + Math.floor((e.start - offset) / blockSize) * blockSize);
        const stop = Math.min(end, e.end);
        while (pos < stop) {
          signal?.throwIfAborted();
          const want = Math.min(CHUNK - (CHUNK % blockSize), Math.ceil((stop - pos) / blockSize) * blockSize);
          const { bytesRead } = await fh.read(buf, 0, want, pos);
          if (bytesRead === 0) break;
          report.bytesRead += bytesRead;
          if (!buf.subarray(0, bytesRead).equals(ZERO.subarray(0, bytesRead))) {
            for (let b = 0; b < bytesRead; b += blockSize) {
              const block = buf.subarray(b, Math.min(b + blockSize, bytesRead));
              if (block.equals(ZERO.subarray(0, block.length))) continue;
              report.dirtyBlocks += 1;
              if (report.examples.length < 5) report.examples.push((pos + b - offset) / blockSize);
            }
          }
          pos += bytesRead;
        }
      }
    }
  } finally {
    await fh.close();
  }
  return report;
}

/**
 * The scrub guarantee: every free block of every ext filesystem in the image (partitions and linear
 * LVM volumes; or the bare filesystem, when the image has no partition table) reads as zero, so no byte of a file that
 * preparation deleted or emptied can leave with the image. Throws `scrub_failed` otherwise.
 * Cheap after a discard: free blocks are holes, and holes are not read.
 *
 * @example
 * const reports = await verifyFreeBlocksZero("disk.raw"); // throws ImagePrepError("scrub_failed") if not
 */
export async function verifyFreeBlocksZero(
  image: string,
  options: {
    signal?: AbortSignal;
    /** The filesystems to check (default: every ext partition and ext LVM volume, or the bare filesystem). */
    filesystems?: CheckedFs[];
  } = {},
): Promise<FreeBlockReport[]> {
  const { signal } = options;
  const filesystems = options.filesystems ?? (await extFilesystems(image, signal));
  const data = await dataRanges(image, signal);
  const reports: FreeBlockReport[] = [];
  for (const f of filesystems) {
    const r = await checkFreeBlocks(image, f.offset, data, f.number, signal);
    if (f.volume) r.volume = f.volume;
    const where = f.volume ? `LVM volume ${f.volume}` : f.number ? `partition ${f.number}` : "the filesystem";
    if (r.dirtyBlocks > 0) {
      throw new ImagePrepError(
        "scrub_failed",
        `${r.dirtyBlocks} free block(s) of ${where} still hold data (blocks ${r.examples.join(", ")}${r.dirtyBlocks > r.examples.length ? ", …" : ""}): what preparation deleted could still be read from the image`,
      );
    }
    reports.push(r);
  }
  return reports;
}

async function extFilesystems(image: string, signal?: AbortSignal): Promise<CheckedFs[]> {
  const table = await readPartitionTable(image, signal);
  const out: CheckedFs[] = [];
  if (table) {
    for (const p of dataPartitions(table)) {
      const filesystem = await probeFilesystem(image, p.offset, p.bytes);
      if (isExt(filesystem.type)) out.push({ number: p.number, offset: p.offset });
      // The ext volumes of an LVM PV (read through a loop device: root only, as LVM guests need anyway).
      if (filesystem.type === "lvm2") {
        for (const v of (await lvmVolumes(image, { ...p, filesystem })).volumes) {
          if (isExt(v.filesystem.type))
            out.push({ number: p.number, offset: v.offset, volume: `${v.lvm.vg}/${v.lvm.lv}` });
        }
      }
    }
  } else if (isExt((await probeFilesystem(image, 0, Number.MAX_SAFE_INTEGER)).type)) {
    out.push({ number: 0, offset: 0 });
  }
  return out;
}
