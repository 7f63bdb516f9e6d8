/** @module unpack/grain-pool — a VMDK's deflated grains inflated and written by worker threads. */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { agentErrors } from "../errors.ts";
import { type ExpansionLimits, expandsTooMuch } from "./expand.ts";
import { GRAIN_WORKER_SOURCE } from "./grain-worker-source.ts";

/** Compressed bytes per batch: big enough that a message costs little against its inflating. */
const BATCH_BYTES = 1 << 20;
/**
 * Grains per batch at most: a batch of tiny grains each inflating to a whole grain must not write
 * much before the expansion check sees it (32 grains of 64 KiB: 2 MiB).
 */
const BATCH_GRAINS = 32;
/** Batches sent to one worker and not answered yet. */
const PER_WORKER = 2;
/**
 * A worker needs little heap of its own: its grains live outside it (and are freed by the worker's
 * own collections, see grain-worker-source.ts), so its heap is capped small.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };
/** Room past a grain in its output slice, so a whole grain ends the stream in one inflate call. */
const SLICE_SLACK = 1024;

/** Follows the output as it is written. */
export interface WriteObserver {
  /** Non-zero bytes were written at `[offset, offset + length)`. */
  dataAt(offset: number, length: number): void;
  /** Nothing below `offset` will be written any more. */
  finalBelow(offset: number): void;
}

/** What the pool reports to, and the limit it enforces. */
export interface GrainSink {
  limits: ExpansionLimits;
  /** Compressed bytes received so far: the expansion ratio is judged against them. */
  inputBytes: () => number;
  onProgress?: (decodedBytes: number, capacityBytes: number) => void;
  /** Told where data lands and which part of the output is final, as the decode goes (a pre-sender). */
  written?: WriteObserver;
}

interface Batch {
  id: number;
  buffer: ArrayBuffer;
  /** The same memory, to copy grains into. */
  view: Buffer;
  offsets: number[];
  starts: number[];
  lengths: number[];
  used: number;
}

interface Reply {
  id: number;
  written: number[];
  decoded: number;
  damage?: {
    offset: number;
    kind: "past" | "inflate" | "short";
    message?: string;
    length?: number;
    expected?: number;
  };
  buffer: ArrayBuffer;
}

interface Lane {
  worker: Worker;
  /** Batches sent and not answered, by id, with the offset of their first grain. */
  waiting: Map<number, number>;
}

/** How many workers inflate grains: every core but the one the download and decode need. */
export function grainWorkers(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

/**
 * Inflates grains off the main thread: they are gathered into batches (≤ 1 MiB compressed, ≤ 32
 * grains) and handed to worker threads, which inflate them and write the non-zero ones at their
 * offsets with the descriptor `fd` (the caller's, open for writing). On the main thread each grain
 * costs a copy into its batch; before, each one cost a zlib stream, a trip to the thread pool and a
 * write request. `add` waits while every worker has two batches, so memory stays a few MiB.
 * Damage (a grain that does not inflate, or to more or less than its size) and an image that expands
 * too much end in an AgentError, as the first failure; `finish` throws it.
 *
 * @example
 * const pool = new GrainPool(fh.fd, { grainBytes, capacityBytes, options });
 * await pool.add(offset, deflated);
 * await pool.finish();
 */
export class GrainPool {
  readonly #grainBytes: number;
  readonly #capacity: number;
  readonly #options: GrainSink;
  readonly #lanes: Lane[];
  readonly #free: ArrayBuffer[] = [];
  #batch: Batch | undefined;
  #nextId = 0;
  #failure: unknown;
  /** Wakes `add` (or `finish`) waiting for a reply. */
  #wake: (() => void) | undefined;
  /** End of the last grain added; grains in ascending order make everything below a settled one final. */
  #lastEnd = 0;
  #ascending = true;
  #closed = false;
  allocated = 0;
  #decoded = 0;

  constructor(
    fd: number,
    setup: { grainBytes: number; capacityBytes: number; options: GrainSink; workers?: number },
  ) {
    this.#grainBytes = setup.grainBytes;
    this.#capacity = setup.capacityBytes;
    this.#options = setup.options;
    const workerData = {
      fd,
      grainBytes: setup.grainBytes,
      capacity: setup.capacityBytes,
      sliceBytes: setup.grainBytes + SLICE_SLACK,
    };
    this.#lanes = Array.from({ length: setup.workers ?? grainWorkers() }, () => {
      const lane: Lane = {
        worker: new Worker(GRAIN_WORKER_SOURCE, { eval: true, workerData, resourceLimits: WORKER_LIMITS }),
        waiting: new Map(),
      };
      lane.worker.on("message", (reply: Reply) => this.#answer(lane, reply));
      lane.worker.on("error", (error) => this.#fail(error));
      lane.worker.on("exit", (code) => {
        if (!this.#closed) this.#fail(new Error(`a grain worker stopped (exit code ${code})`));
      });
      return lane;
    });
  }

  /** Adds the deflated grain that belongs at byte `offset` (a copy is taken). */
  async add(offset: number, data: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    // Grains out of order (allowed, though qemu and VMware write them in order): nothing is known final.
    if (offset < this.#lastEnd) this.#ascending = false;
    this.#lastEnd = Math.min(offset + this.#grainBytes, this.#capacity);
    let batch = this.#batch;
    if (
      batch &&
      (batch.used + data.length > batch.buffer.byteLength || batch.offsets.length >= BATCH_GRAINS)
    ) {
      await this.#send(batch);
      batch = undefined;
    }
    if (!batch) {
      const size = Math.max(BATCH_BYTES, data.length);
      const reused = this.#free.pop();
      const buffer = reused && reused.byteLength >= size ? reused : new ArrayBuffer(size);
      batch = {
        id: this.#nextId++,
        buffer,
        view: Buffer.from(buffer),
        offsets: [],
        starts: [],
        lengths: [],
        used: 0,
      };
      this.#batch = batch;
    }
    data.copy(batch.view, batch.used);
    batch.offsets.push(offset);
    batch.starts.push(batch.used);
    batch.lengths.push(data.length);
    batch.used += data.length;
  }

  /** Sends the last batch, waits for every answer; throws the first failure. Ends the workers. */
  async finish(): Promise<void> {
    try {
      if (this.#batch && !this.#failure) await this.#send(this.#batch);
      this.#batch = undefined;
      while (!this.#failure && this.#lanes.some((l) => l.waiting.size > 0)) await this.#reply();
      if (this.#failure) throw this.#failure;
    } finally {
      await this.close();
    }
  }

  /** Ends the workers at once (what they were writing is left half done: the caller removes the file). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Until every worker has stopped, one may still write with the caller's descriptor.
    await Promise.all(this.#lanes.map((l) => l.worker.terminate()));
  }

  async #send(batch: Batch): Promise<void> {
    this.#batch = undefined;
    let lane = this.#idlest();
    while (!this.#failure && lane.waiting.size >= PER_WORKER) {
      await this.#reply();
      lane = this.#idlest();
    }
    if (this.#failure) throw this.#failure;
    lane.waiting.set(batch.id, batch.offsets[0]!);
    const { id, buffer, offsets, starts, lengths } = batch;
    lane.worker.postMessage({ id, buffer, offsets, starts, lengths }, [buffer]);
  }

  #idlest(): Lane {
    return this.#lanes.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
  }

  #reply(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #answer(lane: Lane, reply: Reply): void {
    lane.waiting.delete(reply.id);
    this.#free.push(reply.buffer);
    try {
      this.#account(reply);
    } catch (error) {
      this.#fail(error);
    }
    this.#wakeWaiter();
  }

  #account(reply: Reply): void {
    if (this.#failure) return;
    this.#decoded += reply.decoded;
    for (const offset of reply.written) {
      const length = Math.min(this.#grainBytes, this.#capacity - offset);
      this.allocated += length;
      this.#options.written?.dataAt(offset, length);
    }
    const { limits, inputBytes } = this.#options;
    if (expandsTooMuch(limits, this.allocated, inputBytes())) {
      throw agentErrors.expansionRefused(
        `The image expands more than ${limits.maxRatio} times its download (${inputBytes()} bytes became over ${this.allocated})`,
      );
    }
    if (reply.damage) throw damaged(reply.damage, this.#grainBytes);
    this.#options.onProgress?.(this.#decoded, this.#capacity);
    if (this.#ascending) this.#options.written?.finalBelow(this.#settledBelow());
  }

  /** Below this offset every grain added so far is written. */
  #settledBelow(): number {
    let low = this.#batch?.offsets[0] ?? this.#lastEnd;
    for (const l of this.#lanes) for (const first of l.waiting.values()) low = Math.min(low, first);
    return low;
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#wakeWaiter();
  }

  #wakeWaiter(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function damaged(damage: NonNullable<Reply["damage"]>, grainBytes: number) {
  const { offset } = damage;
  if (damage.kind === "past")
    return agentErrors.vmdkDamaged(`the grain at byte ${offset} inflates past its ${grainBytes} bytes`);
  if (damage.kind === "short")
    return agentErrors.vmdkDamaged(
      `the grain at byte ${offset} inflates to ${damage.length} bytes, not ${damage.expected}`,
    );
  return agentErrors.vmdkDamaged(`the grain at byte ${offset} does not inflate (${damage.message})`);
}
