/** @module unpack/sparse-writer — writes a stream to a file, leaving all-zero blocks as holes. */
import { type FileHandle, open } from "node:fs/promises";

const BLOCK = 64 * 1024;
const BATCH = 4 << 20;
const ZEROS = Buffer.alloc(BLOCK);

/**
 * Disk images are mostly zeros; writing them would fill the disk for nothing. Data is gathered into
 * 4 MiB batches and each 64 KiB block that is all zero is skipped (a hole); `close()` sets the
 * length. `allocated` counts the bytes actually written.
 *
 * @example
 * const w = await SparseWriter.create(path);
 * for await (const chunk of stream) await w.write(chunk);
 * await w.close();
 */
export class SparseWriter {
  readonly #fh: FileHandle;
  readonly #batch = Buffer.allocUnsafe(BATCH);
  #fill = 0;
  #position = 0;
  #allocated = 0;
  #closed = false;

  private constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  static async create(path: string): Promise<SparseWriter> {
    return new SparseWriter(await open(path, "w"));
  }

  /** Logical bytes written so far (holes included). */
  get bytes(): number {
    return this.#position + this.#fill;
  }

  /** Bytes that took disk space (non-zero blocks) so far. */
  get allocated(): number {
    return this.#allocated;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BATCH - this.#fill);
      this.#batch.set(chunk.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
      if (this.#fill === BATCH) await this.#flush();
    }
  }

  /** Writes the partial batch gathered so far, so `allocated` counts every byte given. */
  async flush(): Promise<void> {
    if (this.#fill > 0) await this.#flush();
  }

  async #flush(): Promise<void> {
    const data = this.#batch.subarray(0, this.#fill);
    let runStart = -1;
    for (let at = 0; at < data.length; at += BLOCK) {
      const block = data.subarray(at, Math.min(at + BLOCK, data.length));
      const zero = block.equals(ZEROS.subarray(0, block.length));
      if (!zero && runStart < 0) runStart = at;
      if (zero && runStart >= 0) {
        await this.#put(data.subarray(runStart, at), runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) await this.#put(data.subarray(runStart), runStart);
    this.#position += data.length;
    this.#fill = 0;
  }

  async #put(data: Buffer, at: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(
        data,
        done,
        data.length - done,
        this.#position + at + done,
      );
      done += bytesWritten;
    }
    this.#allocated += data.length;
  }

  /** Flushes, sets the file's length (trailing holes included) and closes it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#flush();
      await this.#fh.truncate(this.#position);
    } finally {
      await this.#fh.close();
    }
  }

  /** Closes without caring about the content (error paths). */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh.close().catch(() => {});
  }
}
