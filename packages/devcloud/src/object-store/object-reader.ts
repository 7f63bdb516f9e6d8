/** @module object-store/object-reader — an object's bytes streamed from its block files, with ranges. */
import { randomUUID } from "node:crypto";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Fault } from "../fault.ts";
import type { BlockStore } from "./block-store.ts";
import { rangeOutside } from "./headers.ts";

/** Bytes `[offset, offset + length)` of an object, block by block, at most 1 MiB per chunk. */
export async function* objectBytes(
  blocks: BlockStore,
  hashes: string[],
  size: number,
  offset: number,
  length: number,
): AsyncGenerator<Buffer> {
  const blockSize = blocks.blockSize;
  const end = Math.min(size, offset + length);
  let pos = offset;
  while (pos < end) {
    const index = Math.floor(pos / blockSize);
    const inBlock = pos - index * blockSize;
    const blockLength = Math.min(blockSize, size - index * blockSize);
    const take = Math.min(end - pos, blockLength - inBlock);
    yield* blocks.read(hashes[index]!, inBlock, inBlock + take);
    pos += take;
  }
}

/**
 * Writes ranges of an object as the body of `res` (already given its status and headers): one range
 * as is, several as `multipart/byteranges` parts in Pithos' layout. Backpressure keeps memory flat.
 */
export async function sendObjectBody(
  res: ServerResponse,
  blocks: BlockStore,
  hashes: string[],
  size: number,
  ranges: [number, number][],
  boundary: string,
): Promise<void> {
  async function* body(): AsyncGenerator<Buffer> {
    if (ranges.length === 1 || boundary === "") {
      const [offset, length] = ranges[0] ?? [0, size];
      yield* objectBytes(blocks, hashes, size, offset, length);
      return;
    }
    let first = true;
    for (const [offset, length] of ranges) {
      const head = [
        ...(first ? [] : [""]),
        `--${boundary}`,
        `Content-Range: bytes ${offset}-${offset + length - 1}/${size}`,
        "Content-Transfer-Encoding: binary",
        "",
        "",
      ].join("\r\n");
      first = false;
      yield Buffer.from(head);
      yield* objectBytes(blocks, hashes, size, offset, length);
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  await pipeline(Readable.from(body(), { objectMode: false, highWaterMark: 1024 * 1024 }), res);
}

/**
 * Answers a GET for an object: all of it (200) without `ranges`, 416 when a range lies outside it,
 * 206 with Content-Range for one range; several as `multipart/byteranges`, or, without `multipart`
 * (public URLs, a simplification), all of it.
 */
export async function sendObject(
  res: ServerResponse,
  blocks: BlockStore,
  hashes: string[],
  size: number,
  headers: OutgoingHttpHeaders,
  ranges: [number, number][] | undefined,
  multipart: boolean,
): Promise<void> {
  if (ranges?.some((r) => rangeOutside(r, size))) {
    throw new Fault(416, "rangeNotSatisfiable", "Requested range exceeds object limits");
  }
  if (ranges?.length === 1) {
    const [offset, length] = ranges[0]!;
    res.writeHead(206, {
      ...headers,
      "content-length": length,
      "content-range": `bytes ${offset}-${offset + length - 1}/${size}`,
    });
    await sendObjectBody(res, blocks, hashes, size, ranges, "");
    return;
  }
  if (!ranges || !multipart) {
    res.writeHead(200, headers);
    await sendObjectBody(res, blocks, hashes, size, [[0, size]], "");
    return;
  }
  const boundary = randomUUID().replace(/-/g, "");
  const { "content-length": _length, ...rest } = headers;
  res.writeHead(206, { ...rest, "content-type": `multipart/byteranges; boundary=${boundary}` });
  await sendObjectBody(res, blocks, hashes, size, ranges, boundary);
}
