/** @module personality — files injected into a new VM, and Cyclades' limits on them, checked before sending. */
import { SynnefoError } from "./errors.ts";

/** A file Cyclades writes into the VM's disk at creation. `contents` is base64. */
export interface PersonalityFile {
  path: string;
  contents: string;
  owner?: string;
  group?: string;
  /** Permission bits as a number: 0o600 (= 384), not the string "0600". */
  mode?: number;
}

/** Cyclades' defaults (`MAX_PERSONALITY`, `MAX_PERSONALITY_SIZE`). */
export const MAX_PERSONALITY = 5;
export const MAX_PERSONALITY_SIZE = 10240;

const ALLOWED_KEYS = new Set(["path", "contents", "owner", "group", "mode"]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Builds a personality entry from raw contents.
 *
 * @example
 * personalityFile("/etc/icaas/manifest.cfg", "[manifest]\nurl = …\n", { mode: 0o600 })
 */
export function personalityFile(
  path: string,
  contents: Buffer | string,
  options: { owner?: string; group?: string; mode?: number } = {},
): PersonalityFile {
  const data = typeof contents === "string" ? Buffer.from(contents, "utf8") : contents;
  return { path, contents: data.toString("base64"), ...options };
}

/**
 * Checks a personality list the way Cyclades' `verify_personality` does, so a request that would be refused
 * is never sent: more than 5 entries, or an entry whose base64 text or decoded data exceeds 10240 bytes,
 * is a 413 `overLimit`; an unknown key or a malformed entry is a 400 `badRequest`.
 */
export function checkPersonality(personality: readonly PersonalityFile[]): void {
  if (!Array.isArray(personality)) throw malformed("personality must be a list");
  if (personality.length > MAX_PERSONALITY) {
    throw new SynnefoError({
      status: 413,
      code: "overLimit",
      message: "Maximum number of personalities exceeded",
      details: `${personality.length} files given, at most ${MAX_PERSONALITY} allowed`,
      service: "compute",
    });
  }
  for (const file of personality) {
    if (file === null || typeof file !== "object") throw malformed("an entry is not an object");
    const unknown = Object.keys(file).filter((key) => !ALLOWED_KEYS.has(key));
    if (unknown.length > 0) throw malformed(`unknown keys ${unknown.join(", ")}`);
    if (typeof file.path !== "string" || file.path === "") throw malformed("an entry has no path");
    if (typeof file.contents !== "string") throw malformed(`${file.path}: contents must be a base64 string`);
    if (file.mode !== undefined && (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777))
      throw malformed(`${file.path}: mode must be a number such as 384 (0o600)`);
    const encoded = file.contents.replace(/\s+/g, "");
    if (!BASE64.test(encoded) || encoded.length % 4 === 1)
      throw malformed(`${file.path}: contents are not base64`);
    const decoded = Buffer.byteLength(encoded, "base64");
    if (file.contents.length > MAX_PERSONALITY_SIZE || decoded > MAX_PERSONALITY_SIZE) {
      throw new SynnefoError({
        status: 413,
        code: "overLimit",
        message: "Maximum size of personality exceeded",
        details: `${file.path}: ${decoded} bytes (${file.contents.length} as base64), at most ${MAX_PERSONALITY_SIZE} allowed for each`,
        service: "compute",
      });
    }
  }
}

function malformed(details: string): SynnefoError {
  return new SynnefoError({
    status: 400,
    code: "badRequest",
    message: "Malformed personality in request",
    details,
    service: "compute",
  });
}
