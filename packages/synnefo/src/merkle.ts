/** @module merkle — Pithos' object hash: the Merkle root of the block hashes (ETag when UPDATE_MD5 is off). */
import { createHash } from "node:crypto";

/** The block hash algorithm Pithos deployments use by default. */
export const DEFAULT_BLOCK_HASH = "sha256";

/** The block size Pithos deployments use by default (4 MiB). */
export const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;

/**
 * The hash of the empty string, which is also the hash of any all-zero block (trailing NULs are
 * stripped before hashing), and the Merkle hash of an empty object.
 *
 * @example
 * emptyBlockHash() // "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
 */
export function emptyBlockHash(algorithm = DEFAULT_BLOCK_HASH): string {
  return createHash(algorithm).digest("hex");
}

/**
 * The Merkle hash of an object from its block hashes, as Pithos computes it (`HashMap.hash`):
 * no blocks → hash of ""; one block → that block's hash; otherwise the raw digests are padded with
 * zero-filled digests up to a power of two and pairs are hashed together until one remains.
 *
 * @example
 * merkleHash([h1, h2, h3]) // sha256(sha256(h1+h2) + sha256(h3+0…0)), hex
 */
export function merkleHash(blockHashesHex: readonly string[], algorithm = DEFAULT_BLOCK_HASH): string {
  if (blockHashesHex.length === 0) return emptyBlockHash(algorithm);
  if (blockHashesHex.length === 1) return blockHashesHex[0]!.toLowerCase();
  let level: Buffer[] = blockHashesHex.map((h) => Buffer.from(h, "hex"));
  const digestLength = level[0]!.length;
  let size = 2;
  while (size < level.length) size *= 2;
  const zero = Buffer.alloc(digestLength);
  while (level.length < size) level.push(zero);
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(
        createHash(algorithm)
          .update(level[i]!)
          .update(level[i + 1]!)
          .digest(),
      );
    }
    level = next;
  }
  return level[0]!.toString("hex");
}
