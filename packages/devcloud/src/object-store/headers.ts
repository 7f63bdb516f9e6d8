/** @module object-store/headers — Pithos' request headers: metadata, sharing, public, lengths, ranges. */
import type { IncomingMessage } from "node:http";
import { canonicalMetaKey } from "@icaas/synnefo";
import { badRequest, Fault } from "../fault.ts";

/** Pithos' `format_header_key`: `x-object-meta-foo_bar` → `X-Object-Meta-Foo-Bar`. */
export const formatHeaderKey = canonicalMetaKey;

/** The value of a request header (first one when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Every `<prefix>*` request header, keyed by its canonical name (`X-Object-Meta-Foo-Bar`), with the
 * limits of `check_meta_headers`: at most 90, names ≤ 128 and values ≤ 256 characters, else 400.
 */
export function metaFromRequest(req: IncomingMessage, prefix: string): Record<string, string> {
  const entries: [string, string][] = [];
  const lower = prefix.toLowerCase();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!name.toLowerCase().startsWith(lower) || name.length <= prefix.length) continue;
    // Pithos drops '~' from values (undocumented, kept for fidelity).
    entries.push([formatHeaderKey(name), req.rawHeaders[i + 1]!.replace(/~/g, "")]);
  }
  if (entries.length > 90) throw badRequest("Too many headers.");
  for (const [k, v] of entries) {
    if (k.length > 128) throw badRequest("Header name too large.");
    if (v.length > 256) throw badRequest("Header value too large.");
  }
  return Object.fromEntries(entries);
}

/** Read and write permissions of an object: user uuids, or `*` for everyone. */
export interface Sharing {
  read?: string[];
  write?: string[];
}

/** `X-Object-Sharing: read=u1,u2;write=u3` as Pithos' `get_sharing` reads it; `undefined` when absent. */
export function parseSharing(req: IncomingMessage): Sharing | undefined {
  const raw = header(req, "x-object-sharing");
  if (raw === undefined) return undefined;
  const value = raw.replace(/~/g, "").replace(/ /g, "");
  const result: Sharing = {};
  if (value === "") return result;
  for (const perm of value.split(";")) {
    const kind = perm.startsWith("read=") ? "read" : perm.startsWith("write=") ? "write" : undefined;
    if (!kind) throw badRequest("Bad X-Object-Sharing header value: missing prefix");
    let users = [
      ...new Set(
        perm
          .slice(kind.length + 1)
          .split(",")
          .map((u) => u.toLowerCase())
          .filter((u) => u !== ""),
      ),
    ];
    if (users.includes("*")) users = ["*"];
    if (users.length === 0) throw badRequest("Bad X-Object-Sharing header value: invalid length");
    result[kind] = users;
  }
  // A user in both lists keeps only write.
  if (result.read && result.write) {
    const write = result.write;
    result.read = result.read.filter((u) => u === "*" || !write.includes(u));
    if (result.read.length === 0) delete result.read;
  }
  return result;
}

/** `read=u1,u2; write=u3`, or `undefined` when not shared. */
export function formatSharing(sharing: Sharing | undefined): string | undefined {
  if (!sharing) return undefined;
  const parts: string[] = [];
  if (sharing.read?.length) parts.push(`read=${sharing.read.join(",")}`);
  if (sharing.write?.length) parts.push(`write=${sharing.write.join(",")}`);
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** `X-Object-Public`: true, false (also ""), or `undefined` when absent; anything else is a 400. */
export function parsePublic(req: IncomingMessage): boolean | undefined {
  const raw = header(req, "x-object-public");
  if (raw === undefined) return undefined;
  const value = raw.replace(/ /g, "").toLowerCase();
  if (value === "true") return true;
  if (value === "false" || value === "") return false;
  throw badRequest("Bad X-Object-Public header value");
}

/** The request's Content-Length, or -1 for a chunked body; a missing/invalid one is a 411. */
export function contentLength(req: IncomingMessage): number {
  if ((header(req, "transfer-encoding") ?? "").toLowerCase() === "chunked") return -1;
  const raw = header(req, "content-length");
  const n = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Fault(411, "lengthRequired", "Missing or invalid Content-Length header");
  }
  return n;
}

/** An HTTP date, as Pithos' `http_date` writes it. */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/**
 * The ranges of a `Range: bytes=…` header as `[offset, length]` pairs (Pithos' `get_range`), or
 * `undefined` when absent or malformed (then the whole object is served).
 */
export function parseRange(value: string | undefined, size: number): [number, number][] | undefined {
  const ranges = (value ?? "").replace(/ /g, "");
  if (!ranges.startsWith("bytes=")) return undefined;
  const out: [number, number][] = [];
  for (const part of ranges.slice(6).split(",")) {
    const m = /^(\d*)-(\d*)$/.exec(part.trim());
    if (!m) return undefined;
    const [, from, upto] = m;
    if (from === "" && upto === "") return undefined;
    if (from !== "") {
      const offset = Number(from);
      if (upto !== "") {
        const last = Number(upto);
        if (offset > last) return undefined;
        out.push([offset, last - offset + 1]);
      } else {
        out.push([offset, size - offset]);
      }
    } else {
      const length = Number(upto);
      out.push([size - length, length]);
    }
  }
  return out;
}

/** True when a range is outside the object (Pithos: 416 "Requested range exceeds object limits"). */
export function rangeOutside([offset, length]: [number, number], size: number): boolean {
  return length <= 0 || length > size || offset < 0 || offset >= size || offset + length > size;
}

/**
 * A `Content-Range: bytes a-b/total` request header (Pithos' `get_content_range`): `undefined` when
 * absent, `null` when malformed, `{offset: undefined, …}` for `bytes *` + `/*` (append).
 */
export function parseContentRange(
  value: string | undefined,
): { offset?: number; length?: number; total?: number } | undefined | null {
  if (!value) return undefined;
  if (value === "bytes */*") return {};
  const m = /^bytes (\d+)-(\d*)\/(\d+|\*)$/.exec(value);
  if (!m) return null;
  const offset = Number(m[1]);
  const upto = m[2] === "" ? undefined : Number(m[2]);
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (
    (upto !== undefined && offset > upto) ||
    (total !== undefined && offset >= total) ||
    (total !== undefined && upto !== undefined && upto >= total)
  ) {
    return null;
  }
  return { offset, length: upto === undefined ? undefined : upto - offset + 1, total };
}
