/** @module download/chunk-queue — hands a download's chunks to a consumer in order, with backpressure. */

/**
 * A bounded queue between a producer that pushes (the download) and one consumer that iterates
 * (the streaming decoder). `push` waits while more than `highWater` bytes wait; once the consumer
 * stops iterating, pushes are dropped (the download goes on writing its file regardless).
 *
 * @example
 * const q = new ChunkQueue();
 * void consume(q);          // for await (const chunk of q) …
 * await q.push(chunk); q.end();
 */
export class ChunkQueue implements AsyncIterable<Buffer> {
  readonly #highWater: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #ended = false;
  #error: Error | undefined;
  #closed = false;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  constructor(highWater = 4 << 20) {
    this.#highWater = highWater;
  }

  /** False once the consumer is gone: nothing pushed is looked at any more. */
  get open(): boolean {
    return !this.#closed;
  }

  async push(chunk: Buffer): Promise<void> {
    if (this.#closed || this.#ended) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    this.#wake("reader");
    while (this.#bytes > this.#highWater && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#wakeWriter = resolve;
      });
    }
  }

  /** No more chunks: the consumer sees the end. */
  end(): void {
    this.#ended = true;
    this.#wake("reader");
  }

  /** The consumer is gone: drop what waits and every later push. */
  close(): void {
    this.#closed = true;
    this.#chunks = [];
    this.#bytes = 0;
    this.#wake("writer");
  }

  /** The consumer's next read throws `error`. */
  fail(error: Error): void {
    this.#error ??= error;
    this.#wake("reader");
  }

  #wake(who: "reader" | "writer"): void {
    const wake = who === "reader" ? this.#wakeReader : this.#wakeWriter;
    if (who === "reader") this.#wakeReader = undefined;
    else this.#wakeWriter = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (this.#error) throw this.#error;
        const chunk = this.#chunks.shift();
        if (chunk) {
          this.#bytes -= chunk.length;
          if (this.#bytes <= this.#highWater) this.#wake("writer");
          yield chunk;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
      }
    } finally {
      this.close();
    }
  }
}
