/** @module crypto.test — tokens sealed at rest, keys, random secrets and constant-time hash comparison. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadOrCreateKeyFile, parseKey, randomToken, SecretBox, sameHash, sha256Hex } from "./crypto.ts";

describe("crypto", () => {
  it("seals and opens secrets; the ciphertext shows nothing and is bound to its purpose", () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.encrypt("my-synnefo-token", "user-token");
    assert.ok(!sealed.includes("my-synnefo-token"));
    assert.notEqual(box.encrypt("my-synnefo-token", "user-token"), sealed, "a fresh IV each time");
    assert.equal(box.decrypt(sealed, "user-token"), "my-synnefo-token");
    assert.throws(() => box.decrypt(sealed, "manifest-nonce"));
    assert.throws(
      () => new SecretBox(randomBytes(32)).decrypt(sealed, "user-token"),
      "another key cannot open it",
    );
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith("A") ? "B" : "A"}A`;
    assert.throws(() => box.decrypt(tampered, "user-token"));
  });

  it("creates a key file once (mode 0600) and reads it back", () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-key-"));
    try {
      const path = join(dir, "sub", "secret.key");
      const key = loadOrCreateKeyFile(path);
      assert.equal(key.length, 32);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(loadOrCreateKeyFile(path), key);
      assert.deepEqual(parseKey(readFileSync(path, "utf8")), key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parses base64 and hex keys and refuses short ones with a hint", () => {
    const key = randomBytes(32);
    assert.deepEqual(parseKey(key.toString("base64")), key);
    assert.deepEqual(parseKey(key.toString("hex")), key);
    assert.throws(() => parseKey("c2hvcnQ="), /openssl rand -base64 32/);
  });

  it("makes 256-bit random tokens and compares digests exactly", () => {
    const token = randomToken();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(randomToken(), token);
    assert.equal(sameHash(sha256Hex("a"), sha256Hex("a")), true);
    assert.equal(sameHash(sha256Hex("a"), sha256Hex("b")), false);
    assert.equal(sameHash(sha256Hex("a"), "abcd"), false);
    assert.equal(sameHash("", ""), false);
  });
});
