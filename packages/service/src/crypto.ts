/** @module crypto — tokens at rest (AES-256-GCM), random secrets, hashes compared in constant time. */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const VERSION = "v1";

/**
 * Encrypts and decrypts short secrets (user tokens, nonces) with one 256-bit key. The output is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url; the `purpose` is bound as associated data so a value
 * encrypted as a nonce cannot be read back as a token.
 *
 * @example
 * const box = new SecretBox(randomBytes(32));
 * box.decrypt(box.encrypt("secret", "token"), "token"); // "secret"
 */
export class SecretBox {
  readonly #key: Buffer;
  /** A short fingerprint of the key, stored in the database to catch a wrong key at start. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("the encryption key must be 32 bytes");
    this.#key = key;
    this.keyId = sha256Hex(Buffer.concat([Buffer.from("icaas-key-id:"), key])).slice(0, 16);
  }

  encrypt(plaintext: string, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  decrypt(sealed: string, purpose: string): string {
    const [version, iv, tag, data] = sealed.split(".");
    if (version !== VERSION || iv === undefined || tag === undefined || data === undefined)
      throw new Error("not a sealed secret");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}

/** Parses a configured key: base64 (or base64url, or 64 hex digits) of exactly 32 bytes. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : Buffer.from(trimmed, "base64");
  if (key.length !== 32)
    throw new Error("encryptionKey must be the base64 of 32 random bytes (openssl rand -base64 32)");
  return key;
}

/** Reads the key file, or creates it (mode 0600) with 32 random bytes when absent. */
export function loadOrCreateKeyFile(path: string): Buffer {
  if (existsSync(path)) return parseKey(readFileSync(path, "utf8"));
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32);
  // `wx` fails if another process created it meanwhile; then read theirs.
  try {
    writeFileSync(path, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return parseKey(readFileSync(path, "utf8"));
    throw error;
  }
}

/** A random secret of `bytes` bytes (default 32 = 256 bits), base64url without padding. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256Hex(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Compares two hex digests without leaking where they differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  // Both are sha256 digests; a length mismatch means a malformed value, which reveals nothing.
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
