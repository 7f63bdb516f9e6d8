/** @module object-store/block-store — content-addressed blocks on disk, as Pithos' file blocker keeps them. */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { emptyBlockHash, strippedLength } from "@icaas/synnefo";

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * Blocks of at most `blockSize` bytes, each stored once in `<dir>/<hh>/<hash>` where the hash is
 * `sha256(block without trailing NULs)`. The file holds the stripped bytes; reads pad with zeros, as
 * Pithos pads blocks to the block size. Files are written to `<dir>/tmp/` and renamed into place, so a
 * block file is either absent or complete.
 */
export class BlockStore {
  readonly dir: string;
  readonly blockSize: number;
  readonly algorithm: string;
  readonly emptyHash: string;
  readonly #known = new Set<string>();

  constructor(dir: string, blockSize = 4 * 1024 * 1024, algorithm = "sha256") {
    this.dir = dir;
    this.blockSize = blockSize;
    this.algorithm = algorithm;
    this.emptyHash = emptyBlockHash(algorithm);
  }

  /** Creates the folders, forgets half-written temp files and learns which blocks exist. */
  async start(): Promise<void> {
    await rm(join(this.dir, "tmp"), { recursive: true, force: true });
    await mkdir(join(this.dir, "tmp"), { recursive: true });
    for (const fan of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const name of await readdir(join(this.dir, fan))) {
        if (/^[0-9a-f]+$/.test(name)) this.#known.add(name);
      }
    }
  }

  /** True when the block is stored. */
  has(hash: string): boolean {
    return this.#known.has(hash);
  }

  /** How many distinct blocks are stored. */
  get count(): number {
    return this.#known.size;
  }

  pathOf(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** Hashes one block (at most `blockSize` bytes) and stores it unless already there. */
  async put(block: Buffer): Promise<{ hash: string; added: boolean }> {
    if (block.length > this.blockSize) throw new RangeError("block larger than the block size");
    const kept = block.subarray(0, strippedLength(block));
    const hash = createHash(this.algorithm).update(kept).digest("hex");
    if (this.#known.has(hash)) return { hash, added: false };
    const tmp = join(this.dir, "tmp", `${hash}.${randomBytes(6).toString("hex")}`);
    await mkdir(join(this.dir, hash.slice(0, 2)), { recursive: true });
    await writeFile(tmp, kept);
    await rename(tmp, this.pathOf(hash));
    this.#known.add(hash);
    return { hash, added: true };
  }

  /**
   * Streams bytes `[from, to)` of a block, zero-padded past its stored bytes, in chunks of at most
   * 1 MiB (never the whole block at once).
   */
  async *read(hash: string, from: number, to: number): AsyncGenerator<Buffer> {
    if (to <= from) return;
    let stored = 0;
    if (hash !== this.emptyHash || this.#known.has(hash)) {
      const fh = await open(this.pathOf(hash), "r").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") throw new Error(`block ${hash} does not exist`);
        throw error;
      });
      try {
        stored = (await fh.stat()).size;
        let pos = from;
        const end = Math.min(to, stored);
        while (pos < end) {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    }
    for (let pos = Math.max(from, stored); pos < to; pos += CHUNK) {
      yield ZEROS.subarray(0, Math.min(CHUNK, to - pos));
    }
  }

  /** A whole block padded with zeros to `length` bytes (for partial updates; one block in memory). */
  async readPadded(hash: string, length = this.blockSize): Promise<Buffer> {
    const out = Buffer.alloc(length);
    let pos = 0;
    for await (const chunk of this.read(hash, 0, length)) {
      chunk.copy(out, pos);
      pos += chunk.length;
    }
    return out;
  }

  /** Bytes the block files take (tests, stats). */
  async storedBytes(hash: string): Promise<number> {
    return (await stat(this.pathOf(hash))).size;
  }
}
