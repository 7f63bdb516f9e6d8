/** @module testing/disk-like-file — a file shaped like a disk image, for upload tests and benchmarks. */
import { randomFillSync } from "node:crypto";
import { open } from "node:fs/promises";

const BLOCK = 4 * 1024 * 1024;

export interface DiskLikeFileOptions {
  /** How many 4 MiB blocks. */
  blocks: number;
  /** Zero bytes at the end of every fourth block (random data before them). */
  zeroTailBytes: number;
  /** Random bytes written after the last whole block (0: the file ends on a block boundary). */
  extraTailBytes?: number;
  /** fsync before closing, so timings start from data on disk. */
  sync?: boolean;
}

/**
 * Writes a disk-like file, per four 4 MiB blocks: random, a hole (never written), written zeros, and
 * random with a zero tail — what a hashmap upload meets in a real image.
 *
 * @example
 * await writeDiskLikeFile("/tmp/f.img", { blocks: 64, zeroTailBytes: 123_457, extraTailBytes: 12_345 });
 */
export async function writeDiskLikeFile(path: string, options: DiskLikeFileOptions): Promise<void> {
  const { blocks, zeroTailBytes } = options;
  const extra = options.extraTailBytes ?? 0;
  const fh = await open(path, "w");
  const buf = Buffer.alloc(BLOCK);
  try {
    for (let i = 0; i < blocks; i++) {
      const kind = i % 4;
      if (kind === 1) continue;
      if (kind === 0) randomFillSync(buf);
      else if (kind === 2) buf.fill(0);
      else {
        buf.fill(0);
        randomFillSync(buf, 0, BLOCK - zeroTailBytes);
      }
      await fh.write(buf, 0, BLOCK, i * BLOCK);
    }
    if (extra > 0) {
      randomFillSync(buf, 0, extra);
      await fh.write(buf, 0, extra, blocks * BLOCK);
    } else {
      await fh.truncate(blocks * BLOCK);
    }
    if (options.sync) await fh.sync();
  } finally {
    await fh.close();
  }
}
