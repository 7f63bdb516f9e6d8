/** @module pithos-objects — object descriptions from HEAD headers and from JSON listings. */
import { decodeHeaderValue, metaFromHeaders } from "./pithos-meta.ts";

export interface ObjectInfo {
  name: string;
  bytes: number;
  /** The Merkle hash (`X-Object-Hash`, `x_object_hash`). */
  hash: string;
  uuid: string;
  contentType: string;
  lastModified: string;
  version: string;
  modifiedBy: string;
  meta: Record<string, string>;
  /** The public URL, when the object is published (only its owner sees it). */
  publicUrl?: string;
  /** `read=u1,u2;write=u3`, when shared. */
  sharing?: string;
}

/** An object from the headers of HEAD (or GET). */
export function objectFromHeaders(name: string, headers: Record<string, string>): ObjectInfo {
  return {
    name,
    bytes: Number(headers["content-length"] ?? 0),
    hash: headers["x-object-hash"] ?? unquote(headers.etag ?? ""),
    uuid: headers["x-object-uuid"] ?? "",
    contentType: headers["content-type"] ?? "application/octet-stream",
    lastModified: headers["last-modified"] ?? "",
    version: headers["x-object-version"] ?? "",
    modifiedBy: headers["x-object-modified-by"] ?? "",
    meta: metaFromHeaders("x-object-meta-", headers),
    publicUrl: headers["x-object-public"] || undefined,
    sharing: headers["x-object-sharing"] || undefined,
  };
}

/** An object from an item of a `?format=json` listing (`x_object_meta_*` keys back to canonical). */
export function objectFromListing(item: Record<string, unknown>): ObjectInfo {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(item)) {
    if (k.startsWith("x_object_meta_") && typeof v === "string") {
      const key = k
        .slice("x_object_meta_".length)
        .split("_")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
        .join("-");
      meta[key] = decodeHeaderValue(v);
    }
  }
  const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  return {
    name: str(item.name),
    bytes: Number(item.bytes ?? 0),
    hash: str(item.x_object_hash),
    uuid: str(item.x_object_uuid),
    contentType: str(item.content_type),
    lastModified: str(item.last_modified),
    version: str(item.x_object_version),
    modifiedBy: str(item.x_object_modified_by),
    meta,
    publicUrl: str(item.x_object_public) || undefined,
    sharing: str(item.x_object_sharing) || undefined,
  };
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}
