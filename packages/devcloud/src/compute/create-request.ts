/** @module create-request — the shape checks of `POST /servers`, with Cyclades' messages, in its order. */
import { randomInt } from "node:crypto";
import { badRequest, Fault } from "../fault.ts";
import type { PersonalityEntry } from "./driver.ts";

/** Cyclades' defaults: `MAX_PERSONALITY`, `MAX_PERSONALITY_SIZE`, `CYCLADES_VM_MAX_METADATA`, name lengths. */
export const LIMITS = {
  personalities: 5,
  personalitySize: 10240,
  metadataItems: 10,
  metadataKey: 50,
  metadataValue: 500,
  serverName: 255,
} as const;

export interface CreateRequest {
  name: string;
  imageRef: string;
  flavorRef: unknown;
  metadata: Record<string, string>;
  personality: PersonalityEntry[];
  /** undefined: the default networks. */
  networks: Record<string, unknown>[] | undefined;
  project: string | undefined;
  adminPass: string | undefined;
}

const PERSONALITY_KEYS = new Set(["path", "contents", "owner", "group", "mode"]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads the body the way `api/servers.py:create_server` does: a missing name, imageRef or flavorRef, or a
 * wrong type for metadata, personality, networks, tags or key names, is 400 "Malformed request"; then
 * `verify_personality` (413 for too many or too big, 400 for malformed) and `verify_user_data`.
 */
export function parseCreateRequest(body: unknown): CreateRequest {
  const server = isObject(body) ? body.server : undefined;
  if (!isObject(server)) throw badRequest("Malformed request");
  const { name, imageRef, flavorRef } = server;
  const metadata = server.metadata ?? {};
  const personality = server.personality ?? [];
  const networks = server.networks;
  if (
    name === undefined ||
    imageRef === undefined ||
    flavorRef === undefined ||
    !isObject(metadata) ||
    !Array.isArray(server.tags ?? []) ||
    !Array.isArray(personality) ||
    (networks !== undefined && networks !== null && !Array.isArray(networks)) ||
    !Array.isArray(server["SNF:key_names"] ?? [])
  ) {
    throw badRequest("Malformed request");
  }
  if (typeof name !== "string" || typeof imageRef !== "string") throw badRequest("Malformed request");
  verifyPersonality(personality);
  const userData = server.user_data ?? "";
  if (typeof userData !== "string" || !BASE64.test(userData)) throw badRequest("Marformed user_data request");
  const project = server.project;
  if (project !== undefined && project !== null && typeof project !== "string")
    throw badRequest("Malformed request");
  const adminPass = server.adminPass;
  if (adminPass !== undefined && adminPass !== null && typeof adminPass !== "string")
    throw badRequest("Malformed request");
  if (Array.isArray(networks) && networks.some((n) => !isObject(n)))
    throw badRequest("Malformed request. Invalid 'networks' field");
  return {
    name,
    imageRef,
    flavorRef,
    metadata: metadata as Record<string, string>,
    personality: personality as PersonalityEntry[],
    networks: Array.isArray(networks) ? (networks as Record<string, unknown>[]) : undefined,
    project: project ?? undefined,
    adminPass: adminPass || undefined,
  };
}

/** `util.verify_personality`. */
function verifyPersonality(personality: unknown[]): void {
  if (personality.length > LIMITS.personalities)
    throw new Fault(413, "overLimit", "Maximum number of personalities exceeded");
  for (const p of personality) {
    if (!isObject(p) || Object.keys(p).some((k) => !PERSONALITY_KEYS.has(k)))
      throw badRequest("Malformed personality in request");
    const contents = p.contents;
    if (typeof contents !== "string") throw badRequest("Malformed personality in request");
    if (contents.length > LIMITS.personalitySize)
      throw new Fault(413, "overLimit", "Maximum size of personality exceeded");
    if (!BASE64.test(contents.replace(/\s+/g, ""))) throw badRequest("Malformed personality in request");
    if (Buffer.byteLength(contents, "base64") > LIMITS.personalitySize)
      throw new Fault(413, "overLimit", "Maximum size of personality exceeded");
    if (typeof p.path !== "string" || p.path === "") throw badRequest("Malformed personality in request");
    if (p.mode !== undefined && p.mode !== null && (!Number.isInteger(p.mode) || (p.mode as number) < 0))
      throw badRequest("Malformed personality in request");
    for (const name of [p.owner, p.group])
      if (name !== undefined && name !== null && typeof name !== "string")
        throw badRequest("Malformed personality in request");
  }
}

/** Cyclades' `is_password_strong`: at least 10 characters with upper case, lower case and a digit. */
export function isPasswordStrong(password: string): boolean {
  return password.length >= 10 && /[A-Z]/.test(password) && /[a-z]/.test(password) && /\d/.test(password);
}

/** Checks metadata sizes after the image lookup, as `logic/servers.py:create` does. */
export function checkMetadata(metadata: Record<string, unknown>): void {
  if (Object.keys(metadata).length > LIMITS.metadataItems)
    throw badRequest(`Virtual Machines cannot have more than ${LIMITS.metadataItems} metadata items`);
}

export function checkMetadataLengths(metadata: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(metadata)) {
    if (key.length > LIMITS.metadataKey) throw badRequest("Metadata key is too long");
    if (typeof value !== "string" && typeof value !== "number") throw badRequest("Malformed request");
    if (String(value).length > LIMITS.metadataValue) throw badRequest("Metadata value is too long");
  }
}

/** Cyclades' `random_password`: 10 characters with each of lower case, upper case and digits. */
export function randomPassword(random: (n: number) => number = randomInt): string {
  const lower = "abcdefghijklmnopqrstuvwxyz";
  const upper = lower.toUpperCase();
  const digits = "0123456789";
  const pool = lower + upper + digits;
  const pick = (set: string) => set[random(set.length)] ?? "a";
  const chars = [pick(lower), pick(upper), pick(digits)];
  while (chars.length < 10) chars.push(pick(pool));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j] ?? "", chars[i] ?? ""];
  }
  return chars.join("");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
