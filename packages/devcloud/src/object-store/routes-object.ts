/** @module object-store/routes-object — objects: PUT (data or hashmap), HEAD, GET (ranges), POST, DELETE. */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { DevUser } from "../config.ts";
import { badRequest, Fault, forbidden } from "../fault.ts";
import { readBody, sendEmpty, sendJson } from "../http-util.ts";
import type { RouteContext, Router } from "../router.ts";
import { authenticate, checkNames, serialization } from "./access.ts";
import { bodyBlocks } from "./body-blocks.ts";
import {
  contentLength,
  header,
  httpDate,
  metaFromRequest,
  parseContentRange,
  parsePublic,
  parseRange,
  parseSharing,
  rangeOutside,
} from "./headers.ts";
import type { ObjectRecord } from "./object-index.ts";
import { sendObjectBody } from "./object-reader.ts";
import { emptyToUndefined, mergeMeta, type PithosStore, publicToken, sizeMatches } from "./store.ts";

interface ObjectParams {
  account: string;
  container: string;
  object: string;
}

export function addObjectRoutes(router: Router, store: PithosStore): void {
  const path = "/:account/:container/*object";

  router.add("HEAD", path, (ctx) => {
    const { user, p, record } = readable(store, ctx);
    if (notModified(ctx, record)) return;
    ctx.res.writeHead(200, objectHeaders(store, user, p, record));
    ctx.res.end();
  });

  router.add("GET", path, async (ctx) => {
    const { req, res, query } = ctx;
    const { user, p, record } = readable(store, ctx);
    if (notModified(ctx, record)) return;
    const headers = objectHeaders(store, user, p, record);
    const hashes = await store.index.hashmap(record);
    if (query.has("hashmap") && serialization(ctx, "json") === "json") {
      // Pithos keeps the object's own Content-Type on the hashmap reply.
      const body = JSON.stringify({
        block_size: store.blocks.blockSize,
        block_hash: store.blocks.algorithm,
        bytes: record.bytes,
        hashes,
      });
      res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const size = record.bytes;
    const ranges = parseRange(header(req, "range"), size);
    headers["content-disposition"] = disposition(record, p.object, query.get("disposition-type"));
    if (!ranges) {
      res.writeHead(200, headers);
      await sendObjectBody(res, store.blocks, hashes, size, [[0, size]], "");
      return;
    }
    if (ranges.some((r) => rangeOutside(r, size))) {
      throw new Fault(416, "rangeNotSatisfiable", "Requested range exceeds object limits");
    }
    if (ranges.length === 1) {
      const [offset, length] = ranges[0]!;
      res.writeHead(206, {
        ...headers,
        "content-length": length,
        "content-range": `bytes ${offset}-${offset + length - 1}/${size}`,
      });
      await sendObjectBody(res, store.blocks, hashes, size, ranges, "");
      return;
    }
    const boundary = randomUUID().replace(/-/g, "");
    const { "content-length": _length, ...rest } = headers;
    res.writeHead(206, { ...rest, "content-type": `multipart/byteranges; boundary=${boundary}` });
    await sendObjectBody(res, store.blocks, hashes, size, ranges, boundary);
  });

  router.add("PUT", path, async ({ req, res, url, params, query }) => {
    const user = authenticate(store, req, url);
    const p = params as unknown as ObjectParams;
    checkNames(p.container, p.object);
    store.requireOwner(user, p.account);
    if (header(req, "x-copy-from") || header(req, "x-move-from")) {
      throw new Fault(501, "notImplemented", "X-Copy-From and X-Move-From are not implemented by devcloud");
    }
    checkMatch(req, store.index.object(p.account, p.container, p.object)?.hash);
    const length = contentLength(req);
    const contentType = header(req, "content-type");
    // Pithos: "Should be BadRequest, but API says otherwise."
    if (contentType === undefined) throw new Fault(411, "lengthRequired", "Missing Content-Type header");
    const meta = objectMeta(req);
    const sharing = parseSharing(req);
    const wantPublic = parsePublic(req);
    const counters = store.ctx.counters;
    let bytes = 0;
    let hashes: string[] = [];
    if (query.has("hashmap")) {
      counters.add("pithos.hashmapPuts");
      ({ bytes, hashes } = parseHashmap(await readBody(req)));
      if (!sizeMatches(bytes, hashes, store.blocks.blockSize, store.blocks.emptyHash)) {
        throw badRequest("The object's size does not match with the object's hashmap length");
      }
      const missing = bytes === 0 ? [] : store.missing(hashes);
      if (missing.length > 0) {
        sendJson(res, 409, missing);
        return;
      }
    } else {
      const etag = header(req, "etag");
      const md5 = etag ? createHash("md5") : undefined;
      for await (const block of bodyBlocks(req, store.blocks.blockSize, length)) {
        counters.add("pithos.bytesReceived", block.length);
        md5?.update(block);
        bytes += block.length;
        hashes.push((await store.blocks.put(block)).hash);
      }
      if (etag && md5 && parseEtags(etag)[0] !== md5.digest("hex")) {
        throw new Fault(422, "unprocessableEntity", "Object ETag does not match");
      }
    }
    const record = await store.withLock(lockKey(p), () =>
      store.writeObject(user, p.account, p.container, p.object, {
        bytes,
        hashes,
        contentType,
        meta,
        replaceMeta: true,
        sharing,
        public: wantPublic,
      }),
    );
    sendEmpty(res, 201, { etag: record.hash, "x-object-version": record.version });
  });

  router.add("POST", path, async ({ req, res, url, params, query }) => {
    const user = authenticate(store, req, url);
    const p = params as unknown as ObjectParams;
    checkNames(p.container, p.object);
    store.requireOwner(user, p.account);
    const prev = store.object(p.account, p.container, p.object);
    if (header(req, "if-match") || header(req, "if-none-match")) checkMatch(req, prev.hash);
    const meta = objectMeta(req);
    const sharing = parseSharing(req);
    const wantPublic = parsePublic(req);
    const replace = !query.has("update");
    if (header(req, "x-source-object")) {
      throw new Fault(501, "notImplemented", "X-Source-Object is not implemented by devcloud");
    }
    if (header(req, "content-type") !== "application/octet-stream") {
      req.resume();
      const metaChanged = Object.keys(meta).length > 0 || replace;
      const record = await store.withLock(lockKey(p), () =>
        store.updateObject(
          { account: p.account, container: p.container, name: p.object },
          (old) => ({
            sharing: sharing === undefined ? old.sharing : emptyToUndefined(sharing),
            public: publicToken(old.public, wantPublic),
            meta: metaChanged ? mergeMeta(replace ? {} : old.meta, meta) : old.meta,
          }),
          { newVersion: metaChanged, user: user.uuid },
        ),
      );
      sendEmpty(res, 202, metaChanged ? { "x-object-version": record.version } : {});
      return;
    }
    const record = await store.withLock(lockKey(p), () =>
      updateData(store, user, req, p, { meta, replace, sharing, wantPublic }),
    );
    sendEmpty(res, 204, { etag: record.hash, "x-object-version": record.version });
  });

  router.add("DELETE", path, async ({ req, res, url, params }) => {
    const user = authenticate(store, req, url);
    const p = params as unknown as ObjectParams;
    checkNames(p.container, p.object);
    store.requireOwner(user, p.account);
    req.resume();
    await store.withLock(lockKey(p), () => store.deleteObject(p.account, p.container, p.object));
    sendEmpty(res, 204);
  });
}

/**
 * A data update (POST with `application/octet-stream` and `Content-Range`): writes the body at the
 * range's offset — `bytes *` + `/*` appends — patching partly covered blocks, as Pithos'
 * `put_object_block` does. Answers with the new version.
 */
async function updateData(
  store: PithosStore,
  user: DevUser,
  req: IncomingMessage,
  p: ObjectParams,
  change: {
    meta: Record<string, string>;
    replace: boolean;
    sharing: ReturnType<typeof parseSharing>;
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

/** Authenticates a read and finds the object (404), refusing others' unshared objects (403). */
function readable(
  store: PithosStore,
  ctx: RouteContext,
): { user: DevUser; p: ObjectParams; record: ObjectRecord } {
  const user = authenticate(store, ctx.req, ctx.url);
  const p = ctx.params as unknown as ObjectParams;
  checkNames(p.container, p.object);
  const record = store.object(p.account, p.container, p.object);
  if (!store.canRead(user, p.account, record)) throw forbidden("Not allowed");
  return { user, p, record };
}

/** The headers of HEAD and GET (Pithos' `put_object_headers`). */
export function objectHeaders(
  store: PithosStore,
  user: DevUser | undefined,
  p: ObjectParams,
  r: ObjectRecord,
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    etag: r.hash,
    "content-length": r.bytes,
    "content-type": r.contentType,
    "last-modified": httpDate(r.modified),
  };
  if (!user) {
    for (const k of ["Content-Encoding", "Content-Disposition"]) if (r.meta[k]) headers[k] = r.meta[k];
    return headers;
  }
  Object.assign(headers, {
    "x-object-hash": r.hash,
    "x-object-uuid": r.uuid,
    "x-object-modified-by": r.modifiedBy,
    "x-object-version": r.version,
    "x-object-version-timestamp": httpDate(r.modified),
    ...r.meta,
  });
  const sharing = store.sharingHeader(r);
  if (sharing) headers["x-object-sharing"] = sharing;
  if (user.uuid !== p.account) {
    headers["x-object-allowed-to"] = r.sharing?.write?.some((u) => u === "*" || u === user.uuid)
      ? "write"
      : "read";
  } else if (r.public) {
    headers["x-object-public"] = store.publicUrl(r.public);
  }
  return headers;
}

/** `Content-Disposition` of a GET: the user's own, or `inline; filename="…"`. */
export function disposition(r: ObjectRecord, name: string, type: string | null): string {
  const own = r.meta["Content-Disposition"];
  const valid = type === "inline" || type === "attachment";
  if (own && !valid) return own;
  const file = /^[\x20-\x7e]*$/.test(name) ? name.replace(/"/g, "") : encodeURIComponent(name);
  return `${valid ? type : "inline"}; filename="${file}"`;
}

/** User metadata plus the Content-Encoding / Content-Disposition Pithos keeps with it. */
function objectMeta(req: IncomingMessage): Record<string, string> {
  const meta = metaFromRequest(req, "X-Object-Meta-");
  const encoding = header(req, "content-encoding");
  const disp = header(req, "content-disposition");
  return {
    ...meta,
    ...(encoding ? { "Content-Encoding": encoding } : {}),
    ...(disp ? { "Content-Disposition": disp } : {}),
  };
}

/** The body of PUT `?hashmap`: `{"bytes": n, "hashes": [hex, …]}` (400 otherwise). */
function parseHashmap(body: Buffer): { bytes: number; hashes: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw badRequest("Invalid data formatting");
  }
  const d = parsed as { bytes?: unknown; hashes?: unknown } | null;
  const bytes = Number(d?.bytes);
  if (!d || !Array.isArray(d.hashes) || d.bytes === null || !Number.isFinite(bytes)) {
    throw badRequest("Invalid data formatting");
  }
  const hashes = d.hashes.map((h) => {
    if (typeof h !== "string" || h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) {
      throw badRequest(`Invalid hash: ${String(h)}`);
    }
    return h.toLowerCase();
  });
  return { bytes: Math.trunc(bytes), hashes };
}

/** If-Match / If-None-Match on writes (412), as Pithos' `validate_matching_preconditions`. */
function checkMatch(req: IncomingMessage, etag: string | undefined): void {
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined) {
    if (etag === undefined) throw new Fault(412, "preconditionFailed", "Resource does not exist");
    if (ifMatch !== "*" && !parseEtags(ifMatch).includes(etag)) {
      throw new Fault(412, "preconditionFailed", "Resource ETag does not match");
    }
  }
  const ifNoneMatch = header(req, "if-none-match");
  if (ifNoneMatch !== undefined && etag !== undefined) {
    if (ifNoneMatch === "*" || parseEtags(ifNoneMatch).includes(etag)) {
      throw new Fault(412, "preconditionFailed", "Resource exists or ETag matches");
    }
  }
}

/** Conditional GET/HEAD: answers 304 (and returns true) or throws 412. */
function notModified(ctx: RouteContext, r: ObjectRecord): boolean {
  const { req, res } = ctx;
  const seconds = Math.floor(r.modified / 1000);
  const since = Date.parse(header(req, "if-modified-since") ?? "");
  const unmodified = Date.parse(header(req, "if-unmodified-since") ?? "");
  if (!Number.isNaN(unmodified) && seconds > unmodified / 1000) {
    throw new Fault(412, "preconditionFailed", "Resource has been modified");
  }
  const ifMatch = header(req, "if-match");
  if (ifMatch !== undefined && ifMatch !== "*" && !parseEtags(ifMatch).includes(r.hash)) {
    throw new Fault(412, "preconditionFailed", "Resource ETag does not match");
  }
  const ifNoneMatch = header(req, "if-none-match");
  const matched =
    ifNoneMatch !== undefined && (ifNoneMatch === "*" || parseEtags(ifNoneMatch).includes(r.hash));
  if (matched || (!Number.isNaN(since) && seconds <= since / 1000)) {
    sendEmpty(res, 304, { etag: r.hash });
    return true;
  }
  return false;
}

function parseEtags(value: string): string[] {
  return value.split(",").map((e) =>
    e
      .trim()
      .replace(/^W\//, "")
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase(),
  );
}

function lockKey(p: ObjectParams): string {
  return `${p.account}/${p.container}/${p.object}`;
}
