/** @module hashmap-upload — Pithos' hashmap upload of a local file: send only the blocks it lacks. */
import { Agent } from "undici";
import { hashFile } from "./block-hasher.ts";
import { BlockSender } from "./block-sender.ts";
import { containerBlocks, parseHashList } from "./container-blocks.ts";
import { SynnefoError } from "./errors.ts";
import type { ExtentSource } from "./file-holes.ts";
import type { HttpClient } from "./http.ts";
import { merkleHash } from "./merkle.ts";
import { hashMismatch, uploadIncomplete } from "./pithos-errors.ts";
import { metaHeaders } from "./pithos-meta.ts";
import type { UploadFileOptions, UploadTarget } from "./upload-options.ts";

export interface UploadFileResult {
  /** The ETag Pithos answered with (the Merkle hash, or MD5 on `PITHOS_UPDATE_MD5` deployments). */
  etag: string;
  /** The Merkle hash computed locally (equal to Pithos' `X-Object-Hash`). */
  hash: string;
  bytes: number;
  /** Blocks POSTed (each distinct missing hash is sent once). */
  blocksSent: number;
  blocksTotal: number;
  bytesSent: number;
  /** Blocks hashed without reading (holes), and blocks read and found all zero. */
  holeBlocks: number;
  zeroBlocks: number;
  bytesRead: number;
  extentSource: ExtentSource;
}

/**
 * Uploads a file with Pithos' hashmap protocol:
 * 1. HEAD the container for `X-Container-Block-Size` / `-Hash`;
 * 2. hash the file once in blocks (holes not read, trailing NULs stripped);
 * 3. PUT `?hashmap&format=json` → 201 (done) or 409 with the missing hashes;
 * 4. POST each missing block to the container (`?update`, `application/octet-stream`, one block per
 *    request, `concurrency` at a time, re-read from the file) and check the hash Pithos returns;
 * 5. PUT the hashmap again → 201, and check the ETag against the local Merkle hash.
 *
 * Block POSTs and the hashmap PUT are idempotent (blocks are content-addressed), so both are retried on
 * 5xx. Aborting the signal rejects at once with the signal's reason and closes the connections.
 *
 * @example
 * await uploadFileHashmap(target, "/tmp/disk.raw", { concurrency: 4, onProgress: (d, t) => log(d, t) });
 */
export async function uploadFileHashmap(
  target: UploadTarget,
  path: string,
  options: UploadFileOptions = {},
): Promise<UploadFileResult> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const agent = new Agent({ connections: concurrency + 1, keepAliveTimeout: 10_000 });
  const http = target.http(agent);
  const stop = new AbortController();
  const onAbort = () => {
    stop.abort(signal?.reason);
    // Drops in-flight requests; retries then fail at once on the destroyed agent.
    agent.destroy().catch(() => undefined);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const work = upload(http, target, path, options, concurrency, stop.signal);
  try {
    if (!signal) return await work;
    work.catch(() => undefined);
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        if (stop.signal.aborted) reject(stop.signal.reason);
        stop.signal.addEventListener("abort", () => reject(stop.signal.reason), { once: true });
      }),
    ]);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!stop.signal.aborted) await agent.close().catch(() => undefined);
  }
}

async function upload(
  http: HttpClient,
  target: UploadTarget,
  path: string,
  options: UploadFileOptions,
  concurrency: number,
  signal: AbortSignal,
): Promise<UploadFileResult> {
  const { blockSize, algorithm } = await containerBlocks(http, target);
  signal.throwIfAborted();
  const buffers = Array.from({ length: Math.max(2, concurrency) }, () => Buffer.allocUnsafe(blockSize));
  const map = await hashFile(path, {
    blockSize,
    algorithm,
    buffers: buffers.slice(0, 2),
    findHoles: options.findHoles,
    signal,
    onProgress: options.onProgress && ((done, total) => options.onProgress?.(done, total, "hash")),
  });
  const hash = merkleHash(map.hashes, algorithm);
  const body = JSON.stringify({ bytes: map.bytes, hashes: map.hashes });
  const headers = {
    "content-type": options.contentType || "application/octet-stream", // never empty (see putObject)
    "x-object-public": options.public === undefined ? undefined : String(options.public),
    ...metaHeaders("X-Object-Meta-", options.meta),
  };
  const putHashmap = () =>
    http.call({
      method: "PUT",
      path: target.objectPath,
      query: { hashmap: true, format: "json" },
      headers,
      body,
      expect: [201, 409],
    });

  const sender = new BlockSender(http, target, path, map, blockSize, algorithm, buffers, signal, options);
  const maxRounds = options.maxRounds ?? 4;
  let missingCount = 0;
  for (let round = 0; round <= maxRounds; round++) {
    signal.throwIfAborted();
    const res = await putHashmap();
    if (res.status === 201) {
      const etag = (res.headers.etag ?? "").replace(/^"(.*)"$/, "$1");
      await checkEtag(http, target, etag, hash);
      options.onProgress?.(map.bytes, map.bytes, "upload");
      return {
        etag,
        hash,
        bytes: map.bytes,
        blocksSent: sender.blocksSent,
        blocksTotal: map.hashes.length,
        bytesSent: sender.bytesSent,
        holeBlocks: map.holeBlocks,
        zeroBlocks: map.zeroBlocks,
        bytesRead: map.bytesRead + sender.bytesRead,
        extentSource: map.extentSource,
      };
    }
    const missing = parseMissing(res.text, target.label);
    missingCount = missing.length;
    if (round === maxRounds) break;
    await sender.send(missing, concurrency);
  }
  throw uploadIncomplete(`PUT ${target.label}?hashmap`, missingCount);
}

async function checkEtag(http: HttpClient, target: UploadTarget, etag: string, hash: string): Promise<void> {
  if (etag === hash) return;
  // PITHOS_UPDATE_MD5 deployments answer with an MD5 ETag; X-Object-Hash still holds the Merkle hash.
  const head = await http.call({ method: "HEAD", path: target.objectPath });
  const stored = head.headers["x-object-hash"] ?? "";
  if (stored !== hash) throw hashMismatch(`PUT ${target.label}?hashmap`, hash, stored || etag);
}

function parseMissing(text: string, label: string): string[] {
  const list = parseHashList(text);
  if (list.length === 0) {
    throw new SynnefoError({
      status: 409,
      code: "conflict",
      message: `object-store refused the hashmap of ${label} without naming missing blocks`,
      details: text.slice(0, 500),
      service: "object-store",
      request: `PUT ${label}?hashmap`,
    });
  }
  return list;
}
