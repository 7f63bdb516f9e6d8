/** @module object-store/routes-object — objects: PUT (data or hashmap), HEAD, GET (ranges), POST, DELETE. */
import { createHash } from "node:crypto";
import type { DevUser } from "../config.ts";
import { badRequest, Fault, forbidden } from "../fault.ts";
import { readBody, sendEmpty, sendJson } from "../http-util.ts";
import type { RouteContext, Router } from "../router.ts";
import { authenticate, checkNames, serialization } from "./access.ts";
import { bodyBlocks } from "./body-blocks.ts";
import { contentLength, header, parsePublic, parseRange, parseSharing } from "./headers.ts";
import { disposition, type ObjectParams, objectHeaders, objectMeta } from "./object-headers.ts";
import type { ObjectRecord } from "./object-index.ts";
import { sendObject } from "./object-reader.ts";
import { updateData } from "./object-update.ts";
import { checkMatch, notModified, parseEtags } from "./preconditions.ts";
import { emptyToUndefined, mergeMeta, type PithosStore, publicToken, sizeMatches } from "./store.ts";

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
    await sendObject(res, store.blocks, hashes, size, headers, ranges, true);
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

function lockKey(p: ObjectParams): string {
  return `${p.account}/${p.container}/${p.object}`;
}
