import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BlockStore } from "./block-store.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-blocks-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(gen: AsyncGenerator<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of gen) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

test("blocks are named by the sha256 of their bytes without trailing NULs and stored once, stripped", async () => {
  const store = new BlockStore(join(dir, "a"), 1024 * 1024);
  await store.start();
  const data = Buffer.concat([randomBytes(1000), Buffer.alloc(5000)]);
  const first = await store.put(data);
  assert.equal(first.hash, createHash("sha256").update(data.subarray(0, 1000)).digest("hex"));
  assert.equal(first.added, true);
  assert.equal((await store.put(data.subarray(0, 1000))).added, false);
  assert.equal(await store.storedBytes(first.hash), 1000);
  // Reads pad with zeros up to the length asked for, in any window.
  assert.deepEqual(await collect(store.read(first.hash, 0, 6000)), data);
  assert.deepEqual(await collect(store.read(first.hash, 990, 1010)), data.subarray(990, 1010));
  assert.deepEqual(await collect(store.read(store.emptyHash, 0, 10)), Buffer.alloc(10));
  assert.deepEqual(await store.readPadded(first.hash, 1200), data.subarray(0, 1200));
});

test("a restarted store knows its blocks and drops half-written temp files", async () => {
  const path = join(dir, "b");
  const store = new BlockStore(path, 4096);
  await store.start();
  const { hash } = await store.put(randomBytes(4096));
  await mkdir(join(path, "tmp"), { recursive: true });
  await writeFile(join(path, "tmp", "half-written"), "x");
  const again = new BlockStore(path, 4096);
  await again.start();
  assert.equal(again.has(hash), true);
  assert.equal(again.count, 1);
  assert.deepEqual(await readdir(join(path, "tmp")), []);
  await assert.rejects(collect(again.read("ab".repeat(32), 0, 10)), /does not exist/);
});
