import assert from "node:assert/strict";
import { test } from "node:test";
import { hashBlock } from "./block-hasher.ts";
import { emptyBlockHash, merkleHash } from "./merkle.ts";

// Blocks "a", "b\0\0", "c", "\0"×10, "e" and the Merkle hashes of their first n hashes, computed with
// Pithos' own HashMap.hash (modular.py) in Python.
const BLOCKS = ["a", "b\0\0", "c", "\0".repeat(10), "e"].map((s) => Buffer.from(s, "latin1"));
const EXPECTED = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
  "e5a01fee14e0ed5c48714f22180f25ad8365b53f9779f79dc4a3d7e93963f94a",
  "d0a664079d491a97357efa1ce1eab5aeb566adef78a2b910e8d13e901e192832",
  "8b647566a3d9a04e3e11b3dbe6253aee49611f98147525b6583f8e45d028c015",
  "3b90f15aab44382da90cc98d81b4f2bcb3554d695d6affb67ed36d7c1bfa8d3b",
];

test("block hashes strip trailing NULs: 'b\\0\\0' hashes like 'b', all-zero blocks like ''", () => {
  assert.equal(hashBlock(BLOCKS[1]!), hashBlock(Buffer.from("b")));
  assert.equal(hashBlock(BLOCKS[3]!), emptyBlockHash());
  assert.equal(emptyBlockHash(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("Merkle hash matches Pithos for 0 to 5 blocks (empty, single, padded to a power of two)", () => {
  const hashes = BLOCKS.map((b) => hashBlock(b));
  for (let n = 0; n <= 5; n++) assert.equal(merkleHash(hashes.slice(0, n)), EXPECTED[n], `${n} blocks`);
});

test("upper-case hex input gives the same lower-case hash", () => {
  const hashes = BLOCKS.map((b) => hashBlock(b).toUpperCase());
  assert.equal(merkleHash(hashes.slice(0, 3)), EXPECTED[3]);
  assert.equal(merkleHash(hashes.slice(0, 1)), EXPECTED[1]);
});
