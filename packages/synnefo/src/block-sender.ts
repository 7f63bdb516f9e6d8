/** @module block-sender — POSTs the blocks Pithos lacks, a few at a time, each re-read into a reused buffer. */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { type FileHashmap, readFully, sameFile } from "./block-hasher.ts";
import { postBlock } from "./container-blocks.ts";
import { SynnefoError } from "./errors.ts";
import type { HttpClient } from "./http.ts";
import { emptyBlockHash } from "./merkle.ts";
import { fileChanged, hashMismatch } from "./pithos-errors.ts";
import type { UploadFileOptions, UploadTarget } from "./upload-options.ts";

/** Sends missing blocks, each re-read from the file into a reused buffer. */
export class BlockSender {
  blocksSent = 0;
  bytesSent = 0;
  bytesRead = 0;
  readonly #indexByHash = new Map<string, number[]>();
  readonly #empty: string;
  #confirmed: number | undefined;

  constructor(
    readonly http: HttpClient,
    readonly target: UploadTarget,
    readonly path: string,
    readonly map: FileHashmap,
    readonly blockSize: number,
    readonly algorithm: string,
    readonly buffers: Buffer[],
    readonly signal: AbortSignal,
    readonly options: UploadFileOptions,
  ) {
    this.#empty = emptyBlockHash(algorithm);
    map.hashes.forEach((h, i) => {
      const list = this.#indexByHash.get(h);
      if (list) list.push(i);
      else this.#indexByHash.set(h, [i]);
    });
  }

  #lengthOf(index: number): number {
    return Math.min(this.blockSize, this.map.bytes - index * this.blockSize);
  }

  /** Bytes of the file covered by blocks with this hash. */
  #bytesOf(hash: string): number {
    let sum = 0;
    for (const i of this.#indexByHash.get(hash) ?? []) sum += this.#lengthOf(i);
    return sum;
  }

  async send(missing: string[], concurrency: number): Promise<void> {
    const todo = [...new Set(missing)];
    for (const h of todo) {
      if (!this.#indexByHash.has(h)) {
        throw new SynnefoError({
          status: 409,
          code: "invalidResponse",
          message: `object-store asked for block ${h}, which is not in the hashmap`,
          service: "object-store",
          request: `PUT ${this.target.label}?hashmap`,
        });
      }
    }
    if (this.#confirmed === undefined) {
      // First 409: every block Pithos did not ask for is already stored.
      this.#confirmed = this.map.bytes;
      for (const h of todo) this.#confirmed -= this.#bytesOf(h);
      this.options.onProgress?.(this.#confirmed, this.map.bytes, "upload");
    }
    const fh = await open(this.path, "r");
    try {
      let next = 0;
      let failure: unknown;
      const worker = async (buf: Buffer) => {
        while (next < todo.length && failure === undefined && !this.signal.aborted) {
          const hash = todo[next++]!;
          try {
            await this.#sendOne(fh, hash, buf);
          } catch (error) {
            failure ??= error;
          }
        }
      };
      await Promise.all(this.buffers.slice(0, concurrency).map((buf) => worker(buf)));
      if (failure !== undefined) throw failure;
      this.signal.throwIfAborted();
      const st = await fh.stat();
      if (!sameFile(this.map.identity, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino })) {
        throw fileChanged(this.path);
      }
    } finally {
      await fh.close();
    }
  }

  async #sendOne(fh: FileHandle, hash: string, buf: Buffer): Promise<void> {
    const index = this.#indexByHash.get(hash)![0]!;
    const length = this.#lengthOf(index);
    const block = buf.subarray(0, length);
    if (hash === this.#empty) {
      // Any all-zero block will do: no need to read the file.
      block.fill(0);
    } else {
      const got = await readFully(fh, buf, length, index * this.blockSize);
      this.bytesRead += got;
      if (got !== length) throw fileChanged(this.path);
    }
    this.signal.throwIfAborted();
    const stored = await postBlock(this.http, this.target, block);
    if (stored !== hash) {
      // Either the file changed since it was hashed or the server hashes differently.
      throw hashMismatch(`POST ${this.target.label} block ${index}`, hash, stored);
    }
    this.blocksSent++;
    this.bytesSent += length;
    this.#confirmed = (this.#confirmed ?? 0) + this.#bytesOf(hash);
    this.options.onProgress?.(Math.min(this.#confirmed, this.map.bytes), this.map.bytes, "upload");
  }
}
