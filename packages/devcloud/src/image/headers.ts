/** @module headers — Plankton's `X-Image-Meta-*` headers: request parsing and the image in answer headers. */
import type { IncomingMessage } from "node:http";
import { badRequest } from "../fault.ts";
import type { PlanktonImage } from "./image-record.ts";

const META = "x-image-meta-";
const PROPERTY = "x-image-meta-property-";

/** The fields of an answer, in `DETAIL_FIELDS` order. */
export const DETAIL_FIELDS = [
  "name",
  "disk_format",
  "container_format",
  "size",
  "checksum",
  "location",
  "created_at",
  "updated_at",
  "deleted_at",
  "status",
  "is_public",
  "owner",
  "properties",
  "id",
  "is_snapshot",
  "description",
] as const;

/** Fields Plankton reads from headers (`PLANKTON_FIELDS`); other meta headers are ignored. */
const PLANKTON_FIELDS = new Set<string>([...DETAIL_FIELDS, "store"]);

const API_STATUS: Record<string, string> = {
  AVAILABLE: "AVAILABLE",
  UNAVAILABLE: "SAVING",
  ERROR: "ERROR",
  DELETED: "DELETED",
};

export interface ImageParams {
  [field: string]: string | boolean | Record<string, string> | undefined;
  properties: Record<string, string>;
}

/** Plankton's `normalize`: lower case, every ASCII punctuation character → `_`. */
export function normalize(key: string): string {
  return [...key].map((c) => (/[!-/:-@[-`{-~]/.test(c) ? "_" : c.toLowerCase())).join("");
}

/**
 * `headers_to_image_params`: names and property keys/values are URL-unquoted UTF-8, `is_public` is true
 * only for "true" (any case), other values are taken as they come.
 */
export function headersToParams(req: IncomingMessage): ImageParams {
  const params: ImageParams = { properties: {} };
  for (const [rawKey, rawValue] of Object.entries(req.headers)) {
    if (!rawKey.startsWith(META) || rawValue === undefined) continue;
    const value = Array.isArray(rawValue) ? rawValue.join(",") : rawValue;
    if (rawKey.startsWith(PROPERTY)) {
      params.properties[normalize(unquote(rawKey.slice(PROPERTY.length)))] = unquote(value);
      continue;
    }
    const key = normalize(rawKey.slice(META.length));
    if (!PLANKTON_FIELDS.has(key)) continue;
    if (key === "name") params.name = unquote(value);
    else if (key === "is_public") params.is_public = value.toLowerCase() === "true";
    else params[key] = value;
  }
  return params;
}

/**
 * `urllib.unquote` + UTF-8 decoding: valid `%xx` escapes are decoded once, anything else is kept as
 * it is. Node hands header bytes over as latin1 characters.
 */
export function unquote(value: string): string {
  const bytes = Buffer.from(value, "latin1");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    const hex = b === 0x25 ? bytes.subarray(i + 1, i + 3).toString("latin1") : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      out.push(b);
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(out));
  } catch {
    throw badRequest("Could not decode request as UTF-8 string");
  }
}

/** Python's `quote` (safe `/`), for names, descriptions and properties in answers. */
export function quote(text: string): string {
  return encodeURIComponent(text)
    .replace(/%2F/g, "/")
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `_create_image_response`: every detail field as an `x-image-meta-*` header. */
export function imageHeaders(image: PlanktonImage): Record<string, string> {
  const headers: Record<string, string> = {};
  const record = image as unknown as Record<string, unknown>;
  for (const key of DETAIL_FIELDS) {
    if (key === "properties") {
      for (const [pkey, pval] of Object.entries(image.properties))
        headers[quote(`x-image-meta-property-${pkey.replace(/_/g, "-")}`)] = quote(pval);
      continue;
    }
    let value = record[key] ?? "";
    if (key === "status") value = API_STATUS[String(value).toUpperCase()] ?? "UNKNOWN";
    if (key === "name" || key === "description") value = quote(String(value));
    headers[`x-image-meta-${key.replace(/_/g, "-")}`] = pythonString(value);
  }
  return headers;
}

function pythonString(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}
