/** @module block-hasher — a file's Pithos hashmap: one read, fixed buffers, holes hashed without reading. */
import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { ExtentCursor, type ExtentSource, findDataExtents } from "./file-holes.ts";
import { emptyBlockHash } from "./merkle.ts";
import { fileChanged } from "./pithos-errors.ts";

const ZERO = Buffer.alloc(64 * 1024);
const FINE = 512;

/**
 * The length of `buf[0, length)` without its trailing NUL bytes. Checks the last byte first (most data
 * blocks end in a non-zero byte), then compares 64 KiB and 512-byte slices with a zero buffer (memcmp)
 * before looking at single bytes.
 *
 * @example
 * strippedLength(Buffer.from([1, 2, 0, 0]), 4) // 2
 */
export function strippedLength(buf: Uint8Array, length = buf.length): number {
  if (length === 0 || buf[length - 1] !== 0) return length;
  const data = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = length;
  while (end > 0) {
    const start = Math.max(0, end - ZERO.length);
    if (data.compare(ZERO, 0, end - start, start, end) !== 0) {
      let fineEnd = end;
      while (fineEnd > start) {
        const fineStart = Math.max(start, fineEnd - FINE);
        if (data.compare(ZERO, 0, fineEnd - fineStart, fineStart, fineEnd) !== 0) {
          for (let j = fineEnd - 1; j >= fineStart; j--) if (data[j] !== 0) return j + 1;
        }
        fineEnd = fineStart;
      }
    }
    end = start;
  }
  return 0;
}

/**
 * A block's Pithos hash: the hex digest of the block without its trailing NUL bytes.
 *
 * @example
 * hashBlock(Buffer.alloc(4 << 20)) === emptyBlockHash() // true
 */
export function hashBlock(block: Uint8Array, algorithm = "sha256"): string {
  return createHash(algorithm)
    .update(block.subarray(0, strippedLength(block)))
    .digest("hex");
}

export interface HashFileOptions {
  blockSize: number;
  /** Block hash algorithm, as named by `X-Container-Block-Hash` (default sha256). */
  algorithm?: string;
  /** Reused read buffers, at least two of `blockSize` bytes; allocated when not given. */
  buffers?: Buffer[];
  /** Skip the hole lookup (benchmarks; filesystems that lie). Default true. */
  findHoles?: boolean;
  signal?: AbortSignal;
  /** Bytes hashed so far (holes count as hashed) and the file size. */
  onProgress?: (done: number, total: number) => void;
}

export interface FileHashmap {
  bytes: number;
  hashes: string[];
  /** Blocks known to be holes, hashed without reading. */
  holeBlocks: number;
  /** Blocks read and found all zero. */
  zeroBlocks: number;
  bytesRead: number;
  extentSource: ExtentSource;
  /** Identity of the file when hashed; `checkUnchanged` compares against it. */
  identity: FileIdentity;
}

export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Hashes a file into Pithos blocks. Reads each data block once into one of two reused buffers (the next
 * read runs in the thread pool while this block is hashed), so memory stays at two blocks whatever the
 * file size. Blocks that lie entirely in holes are not read: their hash is the empty-string hash.
 *
 * @example
 * const map = await hashFile("/tmp/disk.raw", { blockSize: 4 << 20 });
 * merkleHash(map.hashes)
 */
export async function hashFile(path: string, options: HashFileOptions): Promise<FileHashmap> {
  const blockSize = options.blockSize;
  const algorithm = options.algorithm ?? "sha256";
  const empty = emptyBlockHash(algorithm);
  const buffers = options.buffers ?? [Buffer.allocUnsafe(blockSize), Buffer.allocUnsafe(blockSize)];
  if (buffers.length < 2 || buffers.some((b) => b.length < blockSize))
    throw new RangeError("hashFile needs two buffers of at least blockSize bytes");
  const { extents, source } =
    options.findHoles === false
      ? { extents: undefined, source: "unknown" as const }
      : await findDataExtents(path);
  const fh = await open(path, "r");
  let inflight: Promise<number> | undefined;
  try {
    const identity = await identityOf(fh);
    const size = identity.size;
    const count = Math.ceil(size / blockSize);
    const hashes = new Array<string>(count);
    const cursor = new ExtentCursor(extents);
    let holeBlocks = 0;
    let zeroBlocks = 0;
    let bytesRead = 0;
    let next = 0;
    let slot = 0;

    const schedule = () => {
      while (next < count) {
        const index = next++;
        const start = index * blockSize;
        const length = Math.min(blockSize, size - start);
        if (!cursor.mayHoldData(start, start + length)) {
          hashes[index] = empty;
          holeBlocks++;
          continue;
        }
        const buf = buffers[slot]!;
        slot = (slot + 1) % 2;
        inflight = readFully(fh, buf, length, start);
        return { index, buf, length, read: inflight };
      }
      return undefined;
    };

    let reported = -1;
    const report = (done: number) => {
      if (done === reported) return;
      reported = done;
      options.onProgress?.(done, size);
    };
    let current = schedule();
    while (current) {
      const got = await current.read;
      if (got !== current.length) throw fileChanged(path);
      options.signal?.throwIfAborted();
      const following = schedule();
      const data = current.buf.subarray(0, current.length);
      const kept = strippedLength(data);
      if (kept === 0) {
        hashes[current.index] = empty;
        zeroBlocks++;
      } else {
        hashes[current.index] = createHash(algorithm).update(data.subarray(0, kept)).digest("hex");
      }
      bytesRead += current.length;
      report(Math.min(size, (current.index + 1) * blockSize));
      current = following;
    }
    report(size);
    if (!sameFile(identity, await identityOf(fh))) throw fileChanged(path);
    return { bytes: size, hashes, holeBlocks, zeroBlocks, bytesRead, extentSource: source, identity };
  } finally {
    // A read may still be running when hashing stops early; let it end before closing its handle.
    await inflight?.catch(() => undefined);
    await fh.close();
  }
}

/** Reads `length` bytes at `position` into `buf`, looping over short reads; returns the bytes read. */
export async function readFully(
  fh: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function identityOf(fh: FileHandle): Promise<FileIdentity> {
  const st = await fh.stat();
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** True when size, modification time and inode are the same. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
