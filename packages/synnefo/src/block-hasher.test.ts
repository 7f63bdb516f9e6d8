import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { hashBlock, hashFile, strippedLength } from "./block-hasher.ts";
import { SynnefoError } from "./errors.ts";
import { emptyBlockHash } from "./merkle.ts";

const BS = 1024 * 1024;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-hasher-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("strippedLength finds the last non-zero byte at any distance from the end", () => {
  const buf = Buffer.alloc(300_000);
  assert.equal(strippedLength(buf), 0);
  for (const pos of [0, 1, 511, 512, 65_535, 65_536, 100_000, 299_998, 299_999]) {
    buf.fill(0);
    buf[pos] = 7;
    assert.equal(strippedLength(buf), pos + 1, `non-zero byte at ${pos}`);
  }
  assert.equal(strippedLength(Buffer.from([1, 0, 0, 5, 0]), 3), 1);
  assert.equal(strippedLength(new Uint8Array([1, 2, 0])), 2);
});

test("hashBlock hashes the block without its trailing NULs", () => {
  const data = Buffer.concat([randomBytes(1000), Buffer.alloc(3000)]);
  assert.equal(hashBlock(data), createHash("sha256").update(data.subarray(0, 1000)).digest("hex"));
  assert.equal(hashBlock(Buffer.alloc(BS)), emptyBlockHash());
});

/** A 10.5-block file: data, hole, written zeros, data with a zero tail, hole, …, a short last block. */
async function makeFile(path: string): Promise<Buffer[]> {
  const blocks: Buffer[] = [];
  const fh = await open(path, "w");
  for (let i = 0; i < 10; i++) {
    let block: Buffer;
    if (i % 4 === 0) block = randomBytes(BS);
    else if (i % 4 === 1) block = Buffer.alloc(BS);
    else if (i % 4 === 2) block = Buffer.alloc(BS);
    else block = Buffer.concat([randomBytes(BS / 2), Buffer.alloc(BS / 2)]);
    if (i % 4 !== 1) await fh.write(block, 0, BS, i * BS);
    blocks.push(block);
  }
  const tail = randomBytes(BS / 2);
  await fh.write(tail, 0, tail.length, 10 * BS);
  await fh.close();
  return [...blocks, tail];
}

test("hashFile gives the same hashmap with and without the hole lookup, and skips reading holes", async () => {
  const path = join(dir, "mixed.img");
  const blocks = await makeFile(path);
  const expected = blocks.map((b) => hashBlock(b));
  const progress: number[] = [];
  const withHoles = await hashFile(path, { blockSize: BS, onProgress: (done) => progress.push(done) });
  const withoutHoles = await hashFile(path, { blockSize: BS, findHoles: false });
  assert.deepEqual(withHoles.hashes, expected);
  assert.deepEqual(withoutHoles.hashes, expected);
  assert.equal(withHoles.bytes, 10.5 * BS);
  assert.equal(withoutHoles.holeBlocks, 0);
  assert.equal(withoutHoles.zeroBlocks, 5);
  assert.equal(withoutHoles.bytesRead, 10.5 * BS);
  if (withHoles.extentSource === "filefrag") {
    // Blocks 1, 5 and 9 were never written; the rest had to be read.
    assert.equal(withHoles.holeBlocks, 3);
    assert.equal(withHoles.zeroBlocks, 2);
    assert.equal(withHoles.bytesRead, 7.5 * BS);
  }
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => a - b),
  );
  assert.equal(progress.at(-1), 10.5 * BS);
});

test("hashFile reports a file that changes while it is hashed", async () => {
  const path = join(dir, "growing.img");
  await makeFile(path);
  let grown = false;
  await assert.rejects(
    hashFile(path, {
      blockSize: BS,
      onProgress: () => {
        if (grown) return;
        grown = true;
        appendFileSync(path, "more");
      },
    }),
    (e: unknown) => e instanceof SynnefoError && e.code === "fileChanged",
  );
});

test("hashFile stops when its signal is aborted", async () => {
  const path = join(dir, "abort.img");
  await makeFile(path);
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(
    hashFile(path, { blockSize: BS, signal: controller.signal, findHoles: false }),
    /stop/,
  );
});

test("hole lookup stays exact while the kernel writes back freshly written files", async () => {
  // FIEMAP without a flush can miss data still in the page cache during writeback; a `sync` loop
  // alongside makes writeback happen all the time.
  const syncer = spawn("sh", ["-c", "while :; do sync; sleep 0.02; done"], { stdio: "ignore" });
  try {
    for (let i = 0; i < 10; i++) {
      const path = join(dir, `writeback-${i}.img`);
      const blocks = await makeFile(path);
      const map = await hashFile(path, { blockSize: BS });
      assert.deepEqual(
        map.hashes,
        blocks.map((b) => hashBlock(b)),
        `file ${i}`,
      );
      await rm(path);
    }
  } finally {
    syncer.kill();
  }
});
