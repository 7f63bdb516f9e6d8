/** @module object-store/body-blocks — a request body cut into block-sized buffers, one block in memory. */
import type { IncomingMessage } from "node:http";
import { badRequest } from "../fault.ts";

/** Pithos refuses bodies over 5 GB ("Maximum size is reached"). */
export const MAX_UPLOAD_SIZE = 5 * 1024 * 1024 * 1024;

/**
 * Yields the body in pieces of exactly `size` bytes (the last may be shorter); with `firstSize` the
 * first piece is that long instead (appends that start inside a block). A body shorter than its
 * Content-Length is a 400, as in Pithos' `socket_read_iterator`. Each yielded buffer is new: the caller
 * may keep it while the next one fills.
 */
export async function* bodyBlocks(
  req: IncomingMessage,
  size: number,
  length: number,
  firstSize = size,
): AsyncGenerator<Buffer> {
  if (length > MAX_UPLOAD_SIZE) throw badRequest("Maximum size is reached");
  let want = Math.min(firstSize, size);
  let block = Buffer.allocUnsafe(want);
  let filled = 0;
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_UPLOAD_SIZE) throw badRequest("Maximum size is reached");
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(want - filled, chunk.length - offset);
      chunk.copy(block, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === want) {
        yield block;
        want = size;
        block = Buffer.allocUnsafe(want);
        filled = 0;
      }
    }
  }
  if (length >= 0 && total !== length) throw badRequest("Request body is shorter than its Content-Length");
  if (filled > 0) yield block.subarray(0, filled);
}
