/** @module download/streamed-image — a Bitnami zip's VMDK decoded to raw while the download still arrives. */
import { rm } from "node:fs/promises";
import { AgentError } from "../errors.ts";
import { DEFAULT_EXPANSION_LIMITS, type ExpansionLimits } from "../unpack/expand.ts";
import {
  type DecodeResult,
  decodeStreamOptimized,
  NotStreamable,
  type WriteObserver,
} from "../unpack/vmdk-stream.ts";
import { type StreamedMember, zipMemberStream } from "../unpack/zip-stream.ts";
import { ChunkQueue } from "./chunk-queue.ts";

/** How the streaming decode ended; the unpack step confirms a `decoded` one from the central directory. */
export type StreamOutcome =
  | { kind: "decoded"; raw: string; member: StreamedMember; result: DecodeResult }
  /** Not a zip with a streamOptimized VMDK first, or the download started over: unpack as before. */
  | { kind: "declined"; reason: string }
  /** The decoder found damage (or a bomb): final unless the zip itself is worse. */
  | { kind: "failed"; error: AgentError; member: StreamedMember };

export interface StreamedImageOptions {
  /** The raw disk is written here. */
  raw: string;
  limits?: ExpansionLimits;
  /** Disks bigger than this are left to qemu-img and inspect's limit. */
  maxVirtualBytes: number;
  signal?: AbortSignal;
  /** Follows the raw disk as it is written (the block pre-sender). */
  written?: WriteObserver;
}

/**
 * Takes the download's bytes as they are written (`push`), in order, and runs zip member →
 * inflate → streamOptimized VMDK → sparse raw on them at the same time. A download that resumes
 * with Range just keeps pushing; one that starts over calls `restart` (the decode is dropped and the
 * file is unpacked after the download, as before). Nothing here fails the download: `outcome()`
 * says how it went once the download ended.
 *
 * @example
 * const streamed = new StreamedImage({ raw: join(work, "image.raw"), maxVirtualBytes });
 * await download({ ..., tee: streamed.push, onRestart: streamed.restart });
 * const outcome = await streamed.outcome();
 */
export class StreamedImage {
  readonly #queue = new ChunkQueue();
  readonly #options: StreamedImageOptions;
  readonly #done: Promise<StreamOutcome>;
  #received = 0;
  #declined: string | undefined;

  constructor(options: StreamedImageOptions) {
    this.#options = options;
    this.#done = this.#run();
  }

  async #run(): Promise<StreamOutcome> {
    const member: StreamedMember = { name: "", bytes: 0, crc32: 0 };
    const { raw, signal } = this.#options;
    const data = zipMemberStream(this.#queue, (name) => /\.vmdk$/i.test(name), member);
    try {
      const result = await decodeStreamOptimized(data, raw, {
        limits: this.#options.limits ?? DEFAULT_EXPANSION_LIMITS,
        inputBytes: () => this.#received,
        maxVirtualBytes: this.#options.maxVirtualBytes,
        signal,
        written: this.#options.written,
      });
      if (this.#declined) throw new NotStreamable(this.#declined);
      return { kind: "decoded", raw, member, result };
    } catch (error) {
      await rm(raw, { force: true });
      if (this.#declined) return { kind: "declined", reason: this.#declined };
      if (error instanceof NotStreamable) return { kind: "declined", reason: error.message };
      if (error instanceof AgentError) return { kind: "failed", error, member };
      return { kind: "declined", reason: `the streaming decode stopped: ${(error as Error).message}` };
    } finally {
      // The download must never wait on a decoder that is gone.
      this.#queue.close();
      await data.return(undefined).catch(() => {});
    }
  }

  /** The download's next bytes (the ones just written to its file). */
  readonly push = async (chunks: Buffer[]): Promise<void> => {
    for (const chunk of chunks) {
      if (!this.#queue.open) return;
      this.#received += chunk.length;
      await this.#queue.push(chunk);
    }
  };

  /** The download starts over from byte 0: what was decoded is worthless. */
  readonly restart = (): void => {
    this.#declined ??= "the download started over";
    this.#queue.fail(new NotStreamable(this.#declined));
  };

  /** The download is over (`ok`) or failed: how the decode ended. */
  async outcome(ok = true): Promise<StreamOutcome> {
    if (ok) this.#queue.end();
    else this.restart();
    return this.#done;
  }
}
