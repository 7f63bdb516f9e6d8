/** @module plankton-headers — Plankton's `X-Image-Meta-*` headers, both ways, and pithos:// locations. */

/** An image as Plankton describes it (headers of HEAD/POST/PUT, or an item of the detail list). */
export interface ImageInfo {
  id: string;
  name: string;
  /** `pithos://<owner uuid>/<container>/<object>`, each segment URL-quoted. */
  location: string;
  diskFormat: string;
  containerFormat: string;
  /** `AVAILABLE`, `SAVING`, `ERROR`, `DELETED` or `UNKNOWN` (upper-cased here; old Synnefo sent lower case). */
  status: string;
  isPublic: boolean;
  owner: string;
  size: number;
  /** The object's Merkle hash. */
  checksum: string;
  /** Keys lower-case with `_` (`root_partition`), as Plankton stores them. */
  properties: Record<string, string>;
  /** `YYYY-MM-DD HH:MM:SS` (UTC), as Plankton sends it. */
  createdAt?: string;
  updatedAt?: string;
  isSnapshot?: boolean;
}

/**
 * Plankton refuses (400) a registration or update with any metadata value longer than this
 * (`MAX_META_VALUE_LENGTH` in `plankton/backend.py`, every release), counted in characters.
 */
export const MAX_PROPERTY_VALUE_LENGTH = 256;

const META = "x-image-meta-";
const PROPERTY = "x-image-meta-property-";

/** URL-quotes a header value (UTF-8, as Python's `quote`); Plankton unquotes names and properties. */
export function quoteValue(value: string): string {
  return encodeURIComponent(value);
}

/** Undoes `quoteValue`; a value that is not valid percent-encoding is returned as it came. */
export function unquoteValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The header that carries a property: `root_partition` → `X-Image-Meta-Property-ROOT-PARTITION`. Dashes,
 * not underscores: proxies drop header names with `_`, and Plankton maps both to `_` anyway. Characters
 * a header name cannot hold are percent-quoted (Plankton unquotes the key).
 */
export function propertyHeader(key: string): string {
  const name = [...key.toUpperCase().replace(/_/g, "-")]
    .map((c) => (/[A-Z0-9-]/.test(c) ? c : encodeURIComponent(c)))
    .join("");
  return `X-Image-Meta-Property-${name}`;
}

/** Plankton's own key normalisation: lower case, every punctuation character → `_`. */
export function normalizePropertyKey(key: string): string {
  return [...unquoteValue(key)].map((c) => (/[!-/:-@[-`{-~]/.test(c) ? "_" : c.toLowerCase())).join("");
}

/**
 * Builds a Plankton location from its parts, quoting each segment.
 *
 * @example
 * pithosLocation(user.uuid, "images", "debian 12.diskdump") // "pithos://<uuid>/images/debian%2012.diskdump"
 */
export function pithosLocation(account: string, container: string, object: string): string {
  const quote = (s: string) => encodeURIComponent(s).replace(/%2F/gi, "/");
  return `pithos://${quote(account)}/${quote(container)}/${quote(object)}`;
}

/** Splits a location into its unquoted parts; undefined when it does not have Plankton's shape. */
export function parseLocation(
  location: string,
): { account: string; container: string; object: string } | undefined {
  const parts = location.split("/");
  if (parts.length < 5 || parts[0] !== "pithos:" || parts[1] !== "") return undefined;
  const [account = "", container = "", ...rest] = parts.slice(2);
  return {
    account: unquoteValue(account),
    container: unquoteValue(container),
    object: unquoteValue(rest.join("/")),
  };
}

/**
 * Quotes what a header cannot carry in a location (spaces, non-ASCII) and keeps what is already quoted,
 * so both `pithosLocation(...)` output and a hand-written `pithos://u/c/my image` work.
 */
export function normalizeLocation(location: string): string {
  return location.replace(/[^A-Za-z0-9\-._~/%:@!$&'()*+,;=]/gu, (c) => encodeURIComponent(c));
}

/** Reads the `x-image-meta-*` headers of a Plankton answer. */
export function imageFromHeaders(headers: Record<string, string>): ImageInfo {
  const meta: Record<string, string> = {};
  const properties: Record<string, string> = {};
  for (const [rawKey, value] of Object.entries(headers)) {
    const key = rawKey.toLowerCase();
    if (key.startsWith(PROPERTY)) {
      properties[unquoteValue(key.slice(PROPERTY.length)).replace(/-/g, "_")] = unquoteValue(value);
    } else if (key.startsWith(META)) {
      meta[key.slice(META.length)] = value;
    }
  }
  return {
    id: meta.id ?? "",
    name: unquoteValue(meta.name ?? ""),
    location: meta.location ?? "",
    diskFormat: meta["disk-format"] ?? "",
    containerFormat: meta["container-format"] ?? "",
    status: (meta.status ?? "UNKNOWN").toUpperCase(),
    isPublic: (meta["is-public"] ?? "").toLowerCase() === "true",
    owner: meta.owner ?? "",
    size: Number(meta.size ?? 0),
    checksum: meta.checksum ?? "",
    properties,
    createdAt: meta["created-at"] || undefined,
    updatedAt: meta["updated-at"] || undefined,
    isSnapshot: meta["is-snapshot"] === undefined ? undefined : meta["is-snapshot"].toLowerCase() === "true",
  };
}

/** Reads one item of `GET /images[/detail]`. The short list has only id, name, status, formats and size. */
export function imageFromJson(item: Record<string, unknown>): ImageInfo {
  const properties: Record<string, string> = {};
  if (item.properties && typeof item.properties === "object")
    for (const [k, v] of Object.entries(item.properties)) properties[k] = String(v);
  return {
    id: String(item.id ?? ""),
    name: String(item.name ?? ""),
    location: String(item.location ?? ""),
    diskFormat: String(item.disk_format ?? ""),
    containerFormat: String(item.container_format ?? ""),
    status: String(item.status ?? "UNKNOWN").toUpperCase(),
    isPublic: item.is_public === true || String(item.is_public).toLowerCase() === "true",
    owner: String(item.owner ?? ""),
    size: Number(item.size ?? 0),
    checksum: String(item.checksum ?? ""),
    properties,
    createdAt: typeof item.created_at === "string" ? item.created_at : undefined,
    updatedAt: typeof item.updated_at === "string" ? item.updated_at : undefined,
    isSnapshot: typeof item.is_snapshot === "boolean" ? item.is_snapshot : undefined,
  };
}
