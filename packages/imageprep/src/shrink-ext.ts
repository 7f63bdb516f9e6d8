/** @module shrink-ext — shrinks an ext filesystem (a partition's or an LVM volume's byte range) on a sparse copy, and copies byte ranges within an image sparsely. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { scrubFreeBlocks } from "./discard.ts";
import type { FilesystemInfo } from "./fs-probe.ts";
import { probeFilesystem } from "./fs-probe.ts";
import type { Progress } from "./prepare.ts";
import { runTool } from "./run-tool.ts";

const MiB = 1 << 20;

/** `qemu-img`'s name for `[offset, offset+size)` of a raw file. */
export function rawJson(image: string, offset: number, size: number): string {
  return `json:${JSON.stringify({ driver: "raw", offset, size, file: { driver: "file", filename: image } })}`;
}

/** A private directory for copies: `tmp` if given, else beside the image, else the system temp dir. */
export async function workDir(image: string, tmp?: string): Promise<string> {
  if (tmp) return mkdtemp(join(tmp, "icaas-shrink-"));
  try {
    return await mkdtemp(join(dirname(image), `.${basename(image)}.shrink-`));
  } catch {
    return mkdtemp(join(tmpdir(), "icaas-shrink-"));
  }
}

/** Copies `file` (sparse) over `[offset, offset+size)` of `image`: its zeros become holes there. */
export async function writeRange(
  file: string,
  image: string,
  offset: number,
  size: number,
  signal?: AbortSignal,
): Promise<void> {
  await runTool("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", file, rawJson(image, offset, size)], {
    signal,
  });
}

/** Copies `[offset, offset+size)` of `image` out to a new sparse file. */
export async function readRange(
  image: string,
  offset: number,
  size: number,
  file: string,
  signal?: AbortSignal,
): Promise<void> {
  await runTool("qemu-img", ["convert", "-f", "raw", "-O", "raw", rawJson(image, offset, size), file], {
    signal,
  });
}

/** A byte range holding an ext filesystem, named for the log (`partition 1`, `LVM volume vg/root`). */
export interface ExtRange {
  name: string;
  offset: number;
  bytes: number;
}

export interface ResizedFs {
  blocks: number;
  blockSize: number;
}

export interface ExtShrinkOptions {
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
  tmpDir?: string;
}

/**
 * Shrinks the ext filesystem in `range` to its minimum plus `extra` bytes (rounded up to a MiB, never
 * larger than it was) on a sparse copy — resize2fs on `image?offset=` would truncate the image — and
 * writes it back. Returns the new filesystem size.
 */
export async function shrinkExtFilesystem(
  image: string,
  range: ExtRange,
  fs: FilesystemInfo,
  extra: number,
  options: ExtShrinkOptions,
): Promise<ResizedFs> {
  const { signal } = options;
  const log = options.log ?? (() => undefined);
  const progress = options.onProgress ?? (() => undefined);
  const bs = fs.blockSize as number;
  const oldBlocks = fs.blockCount as number;
  const dir = await workDir(image, options.tmpDir);
  const part = join(dir, "partition.raw");
  try {
    progress({ phase: "shrink", done: 0, total: 4 });
    await readRange(image, range.offset, range.bytes, part, signal);
    progress({ phase: "shrink", done: 1, total: 4 });
    // resize2fs insists on a freshly checked filesystem.
    const check = await runTool("e2fsck", ["-fy", part], { okCodes: [0, 1, 2], signal });
    if (check.code !== 0) log(`shrink: e2fsck fixed errors on ${range.name} before resizing`);
    await runTool("resize2fs", ["-M", part], { signal });
    const min = await probeFilesystem(part, 0, MiB);
    const minBlocks = min.blockCount as number;
    const wantBytes = Math.ceil((minBlocks * bs + extra) / MiB) * MiB;
    const blocks = Math.min(oldBlocks, Math.floor(Math.min(wantBytes, range.bytes) / bs));
    if (blocks !== minBlocks) await runTool("resize2fs", [part, String(blocks)], { signal });
    log(`shrink: ${range.name}: ${oldBlocks} → ${blocks} blocks of ${bs} bytes (minimum ${minBlocks})`);
    // resize2fs moves blocks and grows back into blocks it does not clear: discard the free ones again.
    await scrubFreeBlocks(part, 0, signal);
    progress({ phase: "shrink", done: 2, total: 4 });
    // Zeros in the copy become holes in the image, so the old contents do not survive there.
    await writeRange(part, image, range.offset, blocks * bs, signal);
    progress({ phase: "shrink", done: 3, total: 4 });
    return { blocks, blockSize: bs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
