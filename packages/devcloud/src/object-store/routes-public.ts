/** @module object-store/routes-public — published objects at `/object-store/public/<token>`, no token needed. */
import { itemNotFound } from "../fault.ts";
import { Router } from "../router.ts";
import { header, parseRange } from "./headers.ts";
import { disposition, objectHeaders } from "./object-headers.ts";
import { sendObject } from "./object-reader.ts";
import type { PithosStore } from "./store.ts";

/** GET and HEAD of published objects, with only the basic headers (Pithos' restricted headers). */
export function publicRouter(store: PithosStore): Router {
  const router = new Router("/object-store/public");
  const find = (token: string) => {
    const location = store.index.locatePublic(token);
    const record = location && store.index.object(location.account, location.container, location.name);
    if (!location || !record) throw itemNotFound("Object does not exist");
    return { location, record };
  };
  router.add("HEAD", "/:token", ({ res, params }) => {
    const { location, record } = find(params.token!);
    const p = { account: location.account, container: location.container, object: location.name };
    res.writeHead(200, objectHeaders(store, undefined, p, record));
    res.end();
  });
  router.add("GET", "/:token", async ({ req, res, params, query }) => {
    const { location, record } = find(params.token!);
    const p = { account: location.account, container: location.container, object: location.name };
    const headers = objectHeaders(store, undefined, p, record);
    headers["content-disposition"] = disposition(record, location.name, query.get("disposition-type"));
    const hashes = await store.index.hashmap(record);
    const size = record.bytes;
    const ranges = parseRange(header(req, "range"), size);
    await sendObject(res, store.blocks, hashes, size, headers, ranges, false);
  });
  return router;
}
