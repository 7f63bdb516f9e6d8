/** @module object-store/object-headers — the headers of an object (Pithos' `put_object_headers`), and its metadata. */
import type { IncomingMessage } from "node:http";
import type { DevUser } from "../config.ts";
import { header, httpDate, metaFromRequest } from "./headers.ts";
import type { ObjectRecord } from "./object-index.ts";
import type { PithosStore } from "./store.ts";

/** Account, container and object of a request path. */
export interface ObjectParams {
  account: string;
  container: string;
  object: string;
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
export function objectMeta(req: IncomingMessage): Record<string, string> {
  const meta = metaFromRequest(req, "X-Object-Meta-");
  const encoding = header(req, "content-encoding");
  const disp = header(req, "content-disposition");
  return {
    ...meta,
    ...(encoding ? { "Content-Encoding": encoding } : {}),
    ...(disp ? { "Content-Disposition": disp } : {}),
  };
}
