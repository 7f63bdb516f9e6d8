/** @module pithos-meta — Pithos metadata headers: canonical keys, header values, paths. */

/**
 * The key Pithos stores and returns for a metadata key: `_` becomes `-` and each dash-separated word
 * is capitalised (Python's `str.capitalize`: first letter upper, the rest lower).
 *
 * @example
 * canonicalMetaKey("foo_bar") // "Foo-Bar"
 * canonicalMetaKey("OSFAMILY") // "Osfamily"
 */
export function canonicalMetaKey(key: string): string {
  return key
    .replace(/_/g, "-")
    .split("-")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join("-");
}

/**
 * Header values must be Latin-1 on the wire; Pithos asks clients to URL-encode non-ASCII values.
 * ASCII values are sent as they are, so a value reads back unchanged from any client.
 */
export function encodeHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** Reverses `encodeHeaderValue` when the value is a valid percent-encoding of non-ASCII text. */
export function decodeHeaderValue(value: string): string {
  if (!/%[0-9A-Fa-f]{2}/.test(value)) return value;
  try {
    const decoded = decodeURIComponent(value);
    return /[^\x20-\x7e]/.test(decoded) ? decoded : value;
  } catch {
    return value;
  }
}

/** `{"os": "debian"}` → `{"X-Object-Meta-Os": "debian"}` (or another prefix). */
export function metaHeaders(
  prefix: string,
  meta: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    headers[`${prefix}${canonicalMetaKey(key)}`] = encodeHeaderValue(value);
  }
  return headers;
}

/** Reads `x-object-meta-*` (any prefix, case-insensitive) back into canonical keys. */
export function metaFromHeaders(prefix: string, headers: Record<string, string>): Record<string, string> {
  const meta: Record<string, string> = {};
  const lower = prefix.toLowerCase();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (key.startsWith(lower) && key.length > lower.length) {
      meta[canonicalMetaKey(safeDecode(key.slice(lower.length)))] = decodeHeaderValue(value);
    }
  }
  return meta;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Percent-encodes one path segment (account, container). */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}

/** Percent-encodes an object name, keeping its `/` separators. */
export function encodeObjectName(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}
