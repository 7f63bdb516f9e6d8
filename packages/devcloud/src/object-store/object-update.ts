/** @module object-store/object-update — POST with data: writes at an offset (or appends), patching blocks. */
import type { IncomingMessage } from "node:http";
import type { DevUser } from "../config.ts";
import { badRequest, Fault } from "../fault.ts";
import { bodyBlocks } from "./body-blocks.ts";
import { contentLength, header, parseContentRange, type Sharing } from "./headers.ts";
import type { ObjectParams } from "./object-headers.ts";
import type { ObjectRecord } from "./object-index.ts";
import type { PithosStore } from "./store.ts";

/**
 * A data update (POST with `application/octet-stream` and `Content-Range`): writes the body at the
 * range's offset — `bytes *` + `/*` appends — patching partly covered blocks, as Pithos'
 * `put_object_block` does. Answers with the new version.
 */
export async function updateData(
  store: PithosStore,
  user: DevUser,
  req: IncomingMessage,
  p: ObjectParams,
  change: {
    meta: Record<string, string>;
    replace: boolean;
    sharing: Sharing | undefined;
    wantPublic?: boolean;
  },
): Promise<ObjectRecord> {
  const range = parseContentRange(header(req, "content-range"));
  if (range === undefined) throw badRequest("Missing Content-Range header");
  if (range === null) throw new Fault(416, "rangeNotSatisfiable", "Invalid Content-Range header");
  const prev = store.object(p.account, p.container, p.object);
  const hashes = await store.index.hashmap(prev);
  const size = prev.bytes;
  const offset = range.offset ?? size;
  if (offset > size) throw new Fault(416, "rangeNotSatisfiable", "Supplied offset is beyond object limits");
  const bodyLength = contentLength(req);
  let length = range.length;
  if (length === undefined) length = bodyLength;
  else if (bodyLength !== -1 && length !== bodyLength) {
    throw badRequest("Content length does not match range length");
  }
  if (
    range.total !== undefined &&
    (range.total !== size || offset >= size || (length > 0 && offset + length > size))
  ) {
    throw new Fault(416, "rangeNotSatisfiable", "Supplied range will change provided object limits");
  }
  const rawBytes = header(req, "x-object-bytes");
  const destBytes = rawBytes === undefined ? undefined : Number(rawBytes);
  if (destBytes !== undefined && (!Number.isSafeInteger(destBytes) || destBytes < 0)) {
    throw badRequest("Invalid X-Object-Bytes header");
  }
  const blockSize = store.blocks.blockSize;
  const counters = store.ctx.counters;
  let pos = offset;
  for await (const piece of bodyBlocks(req, blockSize, bodyLength, blockSize - (offset % blockSize))) {
    counters.add("pithos.bytesReceived", piece.length);
    const index = Math.floor(pos / blockSize);
    const inBlock = pos % blockSize;
    let block: Buffer;
    if (index < hashes.length) {
      if (inBlock === 0 && piece.length === blockSize) block = piece;
      else {
        block = await store.blocks.readPadded(hashes[index]!, blockSize);
        piece.copy(block, inBlock);
      }
    } else {
      block = inBlock === 0 ? piece : Buffer.concat([Buffer.alloc(inBlock), piece]);
    }
    hashes[index] = (await store.blocks.put(block)).hash;
    pos += piece.length;
  }
  let newSize = Math.max(size, pos);
  let newHashes = hashes;
  if (destBytes !== undefined && destBytes < newSize) {
    newSize = destBytes;
    newHashes = hashes.slice(0, Math.ceil(newSize / blockSize));
  }
  return store.writeObject(user, p.account, p.container, p.object, {
    bytes: newSize,
    hashes: newHashes,
    contentType: prev.contentType,
    meta: change.meta,
    replaceMeta: change.replace,
    sharing: change.sharing,
    public: change.wantPublic,
  });
}
