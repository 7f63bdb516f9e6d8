/** @module object-store/object-reader — an object's bytes streamed from its block files, with ranges. */
import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlockStore } from "./block-store.ts";

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
