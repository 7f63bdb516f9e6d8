/** @module download/body-tap — reads an HTTP response body without ever dropping a chunk that arrived. */
import type { IncomingMessage } from "node:http";

/**
 * Listens to a response from the moment it exists. A stream that is destroyed (the connection
 * dropped) discards what it buffered, and an async iterator attached late sees nothing at all; the
 * tap takes every chunk as it arrives, so a resume can start after the very last byte received.
 * It pauses the response while more than `highWater` bytes wait to be taken.
 *
 * @example
 * const tap = new BodyTap(res);               // in the response callback
 * for (let c = await tap.take(); c; c = await tap.take()) write(c);
 * if (tap.error) resume();
 */
export class BodyTap {
  readonly #res: IncomingMessage;
  readonly #highWater: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #received = 0;
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  constructor(res: IncomingMessage, highWater = 8 << 20) {
    this.#res = res;
    this.#highWater = highWater;
    res.on("data", (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
      this.#received += chunk.length;
      if (this.#bytes > this.#highWater) res.pause();
      this.#notify();
    });
    res.on("end", () => {
      this.#done = true;
      this.#notify();
    });
    res.on("error", (error) => {
      this.#error ??= error;
      this.#done = true;
      this.#notify();
    });
    res.on("close", () => {
      if (!res.complete) this.#error ??= new Error("connection closed early");
      this.#done = true;
      this.#notify();
    });
  }

  /** Bytes received so far, taken or not. */
  get received(): number {
    return this.#received;
  }

  /** True while the response is paused because too much waits to be taken (our reader is behind). */
  get paused(): boolean {
    return this.#res.isPaused();
  }

  /** Why the body ended early, once `take()` returned null; undefined when it ended normally. */
  get error(): unknown {
    return this.#error;
  }

  /** The chunks that arrived since the last call, or null once the body ended and all was taken. */
  async take(): Promise<Buffer[] | null> {
    while (this.#chunks.length === 0 && !this.#done) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#chunks.length === 0) return null;
    const out = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    if (!this.#done) this.#res.resume();
    return out;
  }

  /** Stops reading: the connection is closed and what waits is dropped. */
  destroy(): void {
    this.#done = true;
    this.#chunks = [];
    this.#res.destroy();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
