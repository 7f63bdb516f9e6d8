/** @module unpack/byte-reader — exact-length reads from a stream of chunks, without copying when it can. */

/**
 * Pulls chunks from `source` as reads need them. `read(n)` gives exactly `n` bytes (a view into a
 * chunk when they are all in one, a copy otherwise) or fewer only at the end of the stream.
 *
 * @example
 * const r = new ByteReader(stream);
 * const header = await r.read(512);
 */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  /** Unread chunks in order; only the bytes a read spans across chunks are ever copied. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #done = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #more(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#it.next();
    if (next.done) {
      this.#done = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length > 0) this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    return true;
  }

  /** Exactly `n` bytes, or what is left when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffered < n && (await this.#more())) {}
    const size = Math.min(n, this.#buffered);
    const first = this.#chunks[0];
    let out: Buffer;
    if (first && first.length >= size) {
      out = first.subarray(0, size);
      this.#drop(size);
    } else {
      out = Buffer.allocUnsafe(size);
      let at = 0;
      while (at < size) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, size - at);
        c.copy(out, at, 0, k);
        at += k;
        this.#drop(k);
      }
    }
    this.position += size;
    return out;
  }

  /** Up to `max` bytes, as they come (no copy); empty only at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    while (this.#buffered === 0 && (await this.#more())) {}
    const first = this.#chunks[0];
    if (!first) return Buffer.alloc(0);
    const out = first.subarray(0, Math.min(max, first.length));
    this.#drop(out.length);
    this.position += out.length;
    return out;
  }

  /** Skips `n` bytes; returns how many there were. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.#buffered === 0 && !(await this.#more())) break;
      const k = Math.min(left, this.#chunks[0]?.length ?? 0);
      this.#drop(k);
      left -= k;
    }
    this.position += n - left;
    return n - left;
  }

  /** Drops `k` bytes of the first chunk (k ≤ its length). */
  #drop(k: number): void {
    const c = this.#chunks[0]!;
    if (k >= c.length) this.#chunks.shift();
    else this.#chunks[0] = c.subarray(k);
    this.#buffered -= k;
  }

  /** The rest of the stream, chunk by chunk. */
  async *rest(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.#buffered === 0 && !(await this.#more())) return;
      const chunk = this.#chunks.shift();
      if (!chunk) continue;
      this.#buffered -= chunk.length;
      this.position += chunk.length;
      yield chunk;
    }
  }

  /** Stops the source early (its producer's `finally` runs). */
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}
