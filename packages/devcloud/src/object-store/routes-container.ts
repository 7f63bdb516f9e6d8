/** @module object-store/routes-container — containers: create, HEAD, list, update (and block upload), delete. */
import type { IncomingMessage } from "node:http";
import { badRequest } from "../fault.ts";
import { sendEmpty, sendJson, sendText } from "../http-util.ts";
import type { RouteContext, Router } from "../router.ts";
import { authenticate, checkNames, isoTime, serialization } from "./access.ts";
import { bodyBlocks } from "./body-blocks.ts";
import { formatHeaderKey, header, httpDate, metaFromRequest } from "./headers.ts";
import { listObjects } from "./listing.ts";
import type { Container, ContainerPolicy, ObjectRecord } from "./object-index.ts";
import type { PithosStore } from "./store.ts";

/** The container a request names, once its user is known to own the account (401/403 otherwise). */
function ownContainer(
  store: PithosStore,
  { req, url, params }: RouteContext,
): { account: string; container: string } {
  const user = authenticate(store, req, url);
  const { account, container } = params as { account: string; container: string };
  checkNames(container);
  store.requireOwner(user, account);
  return { account, container };
}

export function addContainerRoutes(router: Router, store: PithosStore): void {
  router.add("PUT", "/:account/:container", async (ctx) => {
    const { req, res } = ctx;
    const { account, container } = ownContainer(store, ctx);
    const policy = policyFromRequest(req);
    const meta = metaFromRequest(req, "X-Container-Meta-");
    req.resume();
    const created = await store.createContainer(account, container, policy, meta);
    sendEmpty(res, created ? 201 : 202);
  });

  router.add("HEAD", "/:account/:container", (ctx) => {
    const { account, container } = ownContainer(store, ctx);
    sendEmpty(ctx.res, 204, containerHeaders(store, account, store.container(account, container)));
  });

  router.add("GET", "/:account/:container", (ctx) => {
    const { res, query } = ctx;
    const { account, container } = ownContainer(store, ctx);
    const c = store.container(account, container);
    const headers = containerHeaders(store, account, c);
    const entries = listObjects(c, {
      prefix: query.get("prefix"),
      delimiter: query.get("delimiter"),
      marker: query.get("marker"),
      limit: query.get("limit"),
      path: query.get("path"),
    });
    if (serialization(ctx, "text") === "json") {
      const items = entries.map((e) =>
        "subdir" in e ? { subdir: e.subdir } : objectJson(store, e.name, e.record),
      );
      sendJson(res, 200, items, stringHeaders(headers));
      return;
    }
    // Text listings: 204 when empty (JSON ones always 200, as the cloudfiles bindings expect).
    if (entries.length === 0) sendEmpty(res, 204, headers);
    else
      sendText(
        res,
        200,
        `${entries.map((e) => ("subdir" in e ? e.subdir : e.name)).join("\n")}\n`,
        stringHeaders(headers),
      );
  });

  router.add("POST", "/:account/:container", async (ctx) => {
    const { req, res, query } = ctx;
    const { account, container } = ownContainer(store, ctx);
    const policy = policyFromRequest(req);
    const meta = metaFromRequest(req, "X-Container-Meta-");
    const replace = !query.has("update");
    store.container(account, container);
    if (Object.keys(policy).length > 0 || Object.keys(meta).length > 0 || replace) {
      await store.updateContainer(account, container, policy, meta, replace);
    }
    const hashes = await storeBlocks(req, store);
    if (hashes.length === 0) {
      sendEmpty(res, 202);
      return;
    }
    sendJson(res, 202, hashes);
  });

  router.add("DELETE", "/:account/:container", async (ctx) => {
    const { req, res } = ctx;
    const { account, container } = ownContainer(store, ctx);
    req.resume();
    await store.deleteContainer(account, container);
    sendEmpty(res, 204);
  });
}

/**
 * Stores the blocks of a container POST whose Content-Type is exactly `application/octet-stream`
 * (with a charset, Pithos treats it as a metadata update) and returns their hashes, in order.
 */
async function storeBlocks(req: IncomingMessage, store: PithosStore): Promise<string[]> {
  const type = header(req, "content-type");
  const chunked = (header(req, "transfer-encoding") ?? "").toLowerCase() === "chunked";
  const length = chunked ? -1 : Number(header(req, "content-length") ?? 0);
  if (type !== "application/octet-stream" || length === 0) {
    req.resume();
    return [];
  }
  const counters = store.ctx.counters;
  const hashes: string[] = [];
  for await (const block of bodyBlocks(req, store.blocks.blockSize, Number.isNaN(length) ? -1 : length)) {
    counters.add("pithos.blocksReceived");
    counters.add("pithos.bytesReceived", block.length);
    hashes.push((await store.blocks.put(block)).hash);
  }
  return hashes;
}

/** `X-Container-Policy-*` of a request (Pithos' `_check_policy` rules). */
function policyFromRequest(req: IncomingMessage): Partial<ContainerPolicy> {
  const policy: Partial<ContainerPolicy> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!name.startsWith("x-container-policy-")) continue;
    const key = name.slice("x-container-policy-".length);
    const value = req.rawHeaders[i + 1]!.replace(/ /g, "");
    if (key === "quota") {
      const n = Number(value);
      if (value === "" || !Number.isSafeInteger(n) || n < 0) {
        throw badRequest("The quota policy value should be a positive integer.");
      }
      policy.quota = n;
    } else if (key === "versioning") {
      if (value !== "auto" && value !== "none") {
        throw badRequest("The versioning policy value should be either 'auto' or 'none'.");
      }
      policy.versioning = value;
    } else if (key === "project") {
      policy.project = value;
    } else {
      throw badRequest("The only allowed policies are 'quota' or 'versioning'.");
    }
  }
  return policy;
}

function containerHeaders(
  store: PithosStore,
  account: string,
  c: Container,
): Record<string, string | number> {
  const objectMeta = new Set<string>();
  for (const record of c.objects.values()) {
    for (const k of Object.keys(record.meta)) {
      if (k.startsWith("X-Object-Meta-")) objectMeta.add(k.slice("X-Object-Meta-".length));
    }
  }
  return {
    "x-container-object-count": c.objects.size,
    "x-container-bytes-used": c.bytes,
    "last-modified": httpDate(c.modified),
    ...c.meta,
    "x-container-object-meta": [...objectMeta].sort().join(","),
    "x-container-block-size": store.blocks.blockSize,
    "x-container-block-hash": store.blocks.algorithm,
    [formatHeaderKey("x-container-policy-quota")]: c.policy.quota,
    [formatHeaderKey("x-container-policy-versioning")]: c.policy.versioning,
    [formatHeaderKey("x-container-policy-project")]: c.policy.project || account,
  };
}

/** One object of a JSON listing (Pithos' `printable_header_dict` names). */
export function objectJson(store: PithosStore, name: string, r: ObjectRecord): Record<string, unknown> {
  const item: Record<string, unknown> = {
    name,
    bytes: r.bytes,
    content_type: r.contentType,
    last_modified: isoTime(r.modified),
    // The MD5 checksum, empty because PITHOS_UPDATE_MD5 is off.
    hash: "",
    x_object_hash: r.hash,
    x_object_uuid: r.uuid,
    x_object_version: r.version,
    x_object_version_timestamp: String(r.modified / 1000),
    x_object_modified_by: r.modifiedBy,
  };
  for (const [k, v] of Object.entries(r.meta)) item[k.toLowerCase().replace(/-/g, "_")] = v;
  const sharing = store.sharingHeader(r);
  if (sharing) item.x_object_sharing = sharing;
  if (r.public) item.x_object_public = store.publicUrl(r.public);
  return item;
}

function stringHeaders(headers: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
}
