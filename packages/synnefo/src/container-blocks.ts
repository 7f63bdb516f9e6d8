/** @module container-blocks — a container's block size and hash, and the one block POST, shared by the upload and the pre-sender. */
import { getHashes } from "node:crypto";
import { SynnefoError } from "./errors.ts";
import type { HttpClient } from "./http.ts";
import type { UploadTarget } from "./upload-options.ts";

/** The largest container block size accepted (Pithos uses 4 MiB). */
const MAX_BLOCK_SIZE = 64 * 1024 * 1024;

export interface ContainerBlocks {
  blockSize: number;
  algorithm: string;
}

/**
 * HEADs the container for `X-Container-Block-Size` / `-Hash`. Buffers of the block size are
 * allocated from it: a bogus size or an algorithm Node lacks is refused (`unsupportedBlockHash`).
 */
export async function containerBlocks(http: HttpClient, target: UploadTarget): Promise<ContainerBlocks> {
  const container = await http.call({ method: "HEAD", path: target.containerPath });
  const blockSize = Number(container.headers["x-container-block-size"] ?? 4 * 1024 * 1024);
  const algorithm = (container.headers["x-container-block-hash"] ?? "sha256").toLowerCase();
  if (!(blockSize > 0 && blockSize <= MAX_BLOCK_SIZE) || !getHashes().includes(algorithm)) {
    throw new SynnefoError({
      status: 0,
      code: "unsupportedBlockHash",
      message: `object-store uses block hash ${algorithm} and block size ${blockSize}, which this client cannot compute`,
      service: "object-store",
      request: `HEAD ${target.label}`,
    });
  }
  return { blockSize, algorithm };
}

/**
 * POSTs one block to the container (`?update`, exactly `application/octet-stream`: with a charset
 * Pithos treats the POST as a metadata update) and returns the hash Pithos stored it under.
 * Idempotent: blocks are content-addressed.
 */
export async function postBlock(
  http: HttpClient,
  target: UploadTarget,
  block: Uint8Array,
  retries?: number,
): Promise<string> {
  const res = await http.call({
    method: "POST",
    path: target.containerPath,
    query: { update: true, format: "json" },
    headers: { "content-type": "application/octet-stream" },
    body: block,
    idempotent: true,
    retries,
    expect: [202],
  });
  return parseHashList(res.text)[0] ?? "";
}

/** A JSON array of hashes, or (text serialisation) one hash per line. */
export function parseHashList(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed)) return parsed.map((h) => String(h).toLowerCase());
    } catch {
      return [];
    }
  }
  return trimmed
    .split("\n")
    .map((l) => l.trim().toLowerCase())
    .filter((l) => /^[0-9a-f]+$/.test(l));
}
