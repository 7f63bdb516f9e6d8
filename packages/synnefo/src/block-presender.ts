/** @module block-presender — a growing file's finished blocks sent to a container before the file is uploaded. */
import { type FileHandle, open } from "node:fs/promises";
import { Agent } from "undici";
import { readFully, strippedLength } from "./block-hasher.ts";
import { containerBlocks, postBlock } from "./container-blocks.ts";
import type { HttpClient } from "./http.ts";
import type { UploadTarget } from "./upload-options.ts";

export interface PresendOptions {
  /** Blocks sent at once (each holds one block buffer). Default 2. */
  concurrency?: number;
  /** Finished blocks that may wait for a sender; past this, new ones are skipped. Default 4. */
  maxWaiting?: number;
  /** Run before the container's HEAD, e.g. to create it. */
  prepare?: () => Promise<unknown>;
  /** Stops everything at once (the connections are closed). */
  signal?: AbortSignal;
}

export interface PresendStats {
  blocksSent: number;
  bytesSent: number;
  /** Finished blocks not sent because the sender was behind (the upload sends them if needed). */
  blocksSkipped: number;
  /** Blocks read and found all zero (never sent). */
  zeroBlocks: number;
  /** Why pre-sending stopped early, if it did (the upload still sends whatever is missing). */
  failure?: string;
}

/**
 * Sends the blocks of a file that is still being written, so that its hashmap upload later finds
 * most of them already stored. The writer says where it wrote data (`dataAt`) and below which offset
 * nothing changes any more (`finalBelow`); each finished block holding data is read back from the
 * file (the page cache) and POSTed to the container as the hashmap upload does. It never
 * holds the writer back: when more than `maxWaiting` blocks wait, new ones are skipped. The first
 * failure stops it (reported in `failure`, never thrown): what it sent is only a head start, and
 * whatever changes later (or was never sent) the upload sends as usual. Blocks are content-addressed,
 * so a stale or skipped block costs time, never correctness.
 *
 * @example
 * const pre = pithos.presender("images", "/work/disk.raw", { signal });
 * pre.dataAt(0, 65536); pre.finalBelow(4 << 20);
 * const stats = await pre.finish();
 */
export class BlockPresender {
  readonly #path: string;
  readonly #options: PresendOptions;
  readonly #agent: Agent;
  readonly #http: HttpClient;
  readonly #target: UploadTarget;
  readonly #ready: Promise<void>;
  #blockSize = 0;
  /** Data written before the block size was known. */
  #early: [number, number][] = [];
  /** Blocks holding data that are not final yet. */
  readonly #dirty = new Set<number>();
  readonly #waiting: number[] = [];
  readonly #free: Buffer[] = [];
  readonly #concurrency: number;
  readonly #running = new Set<Promise<void>>();
  #final = 0;
  #fh: Promise<FileHandle> | undefined;
  #stopped = false;
  /** Settles when `stop` is called: nothing waits on a request that may hang after it. */
  readonly #stopPromise: Promise<void>;
  #stopResolve: () => void = () => {};
  #stats: PresendStats = { blocksSent: 0, bytesSent: 0, blocksSkipped: 0, zeroBlocks: 0 };

  constructor(target: UploadTarget, path: string, options: PresendOptions = {}) {
    this.#path = path;
    this.#options = options;
    this.#target = target;
    this.#stopPromise = new Promise((resolve) => {
      this.#stopResolve = resolve;
    });
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
    this.#agent = new Agent({ connections: this.#concurrency + 1, keepAliveTimeout: 10_000 });
    this.#http = target.http(this.#agent);
    options.signal?.addEventListener("abort", this.stop, { once: true });
    if (options.signal?.aborted) this.stop();
    this.#ready = this.#start();
  }

  async #start(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#options.prepare?.();
      const { blockSize } = await containerBlocks(this.#http, this.#target);
      this.#blockSize = blockSize;
      const early = this.#early;
      this.#early = [];
      for (const [offset, length] of early) this.dataAt(offset, length);
      this.finalBelow(this.#final);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Bytes `[offset, offset + length)` were written with data (not zeros). */
  readonly dataAt = (offset: number, length: number): void => {
    if (this.#stopped || length <= 0) return;
    if (this.#blockSize === 0) {
      // Bounded: a container HEAD that takes this long is not worth remembering for.
      if (this.#early.length < 100_000) this.#early.push([offset, length]);
      return;
    }
    const last = Math.floor((offset + length - 1) / this.#blockSize);
    for (let b = Math.floor(offset / this.#blockSize); b <= last; b++) this.#dirty.add(b);
  };

  /** Nothing below `offset` will be written any more: the blocks entirely below it are finished. */
  readonly finalBelow = (offset: number): void => {
    if (offset > this.#final) this.#final = offset;
    if (this.#stopped || this.#blockSize === 0) return;
    const limit = Math.floor(this.#final / this.#blockSize);
    for (const b of this.#dirty) {
      if (b >= limit) continue;
      this.#dirty.delete(b);
      const full = this.#waiting.length >= (this.#options.maxWaiting ?? 4);
      if (full) this.#stats.blocksSkipped++;
      else this.#waiting.push(b);
    }
    this.#pump();
  };

  #pump(): void {
    while (!this.#stopped && this.#waiting.length > 0 && this.#running.size < this.#concurrency) {
      const index = this.#waiting.shift()!;
      // At most `concurrency` buffers of one block each, reused.
      const buf = this.#free.pop() ?? Buffer.allocUnsafe(this.#blockSize);
      const job = this.#send(index, buf)
        .catch((error) => this.#fail(error))
        .finally(() => {
          this.#free.push(buf);
          this.#running.delete(job);
          this.#pump();
        });
      this.#running.add(job);
    }
  }

  async #send(index: number, buf: Buffer): Promise<void> {
    const size = this.#blockSize;
    this.#fh ??= open(this.#path, "r");
    // Past the file's current end (a trailing hole not yet sized) the block is zeros.
    const got = await readFully(await this.#fh, buf, size, index * size);
    buf.fill(0, got, size);
    const kept = strippedLength(buf, size);
    if (kept === 0) {
      this.#stats.zeroBlocks++;
      return;
    }
    if (this.#stopped) return;
    // Not hashed here (Pithos hashes what it stores): the upload hashes the final file anyway, and its
    // hashmap, not this, decides what the object is made of; a block stored wrong is one it sends.
    // No retry: the first failure ends pre-sending (the upload sends what is missing anyway).
    const stored = await postBlock(this.#http, this.#target, buf.subarray(0, kept), 0);
    if (!stored) throw new Error(`Pithos answered the POST of block ${index} with no hash`);
    this.#stats.blocksSent++;
    this.#stats.bytesSent += kept;
  }

  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#stats.failure ??= (error as Error).message;
    this.stop();
  }

  /** Stops at once: nothing more is read or sent, in-flight requests are dropped. */
  readonly stop = (): void => {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopResolve();
    this.#waiting.length = 0;
    this.#dirty.clear();
    this.#options.signal?.removeEventListener("abort", this.stop);
    this.#agent.destroy().catch(() => undefined);
    // Closes the file once the reads in flight are over (finish is safe to call again).
    void this.finish();
  };

  /** Sends what is waiting, then stops; the numbers say what was sent. Never throws. */
  async finish(): Promise<PresendStats> {
    // `prepare` (e.g. creating the container) does not see the signal: a stop does not wait for it.
    await Promise.race([this.#ready, this.#stopPromise]);
    while (this.#running.size > 0) await Promise.all(this.#running);
    if (!this.#stopped) {
      this.#stopped = true;
      this.#options.signal?.removeEventListener("abort", this.stop);
      await this.#agent.close().catch(() => undefined);
    }
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.then((h) => h.close()).catch(() => undefined);
    return { ...this.#stats };
  }
}
