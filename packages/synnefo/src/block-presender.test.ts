import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Devcloud } from "@icaas/devcloud";
import type { PithosClient } from "./pithos.ts";
import { type PithosDevcloud, startPithosDevcloud } from "./testing/index.ts";

const BS = 4 * 1024 * 1024;

describe("BlockPresender against devcloud", () => {
  let stack: PithosDevcloud;
  let dir: string;
  let cloud: Devcloud;
  let pithos: PithosClient;
  const received = () => cloud.counters.get("pithos.blocksReceived");

  before(async () => {
    stack = await startPithosDevcloud("pre");
    ({ dir, cloud, pithos } = stack);
  });
  after(async () => {
    await stack.close();
  });

  /** Writes block `index` of `path` (random data unless `data` is given) and says so to the pre-sender. */
  async function writeBlock(path: string, index: number, data = randomBytes(BS)): Promise<Buffer> {
    const fh = await open(path, "r+");
    try {
      await fh.write(data, 0, data.length, index * BS);
    } finally {
      await fh.close();
    }
    return data;
  }

  async function newFile(name: string): Promise<string> {
    const path = join(dir, name);
    await (await open(path, "w")).close();
    return path;
  }

  test("sends the finished blocks of a growing file, skips zero blocks and blocks not final yet", async () => {
    const path = await newFile("growing.raw");
    const before = received();
    const pre = pithos.presender("pre", path);
    await writeBlock(path, 0);
    pre.dataAt(0, BS);
    // Written zeros: reported as data by a writer that does not look, never sent.
    await writeBlock(path, 1, Buffer.alloc(BS));
    pre.dataAt(BS, BS);
    await writeBlock(path, 2);
    pre.dataAt(2 * BS, BS);
    pre.finalBelow(3 * BS);
    // Block 3 gets data but is never final (the writer may still change it).
    await writeBlock(path, 3);
    pre.dataAt(3 * BS, 100);
    pre.finalBelow(3 * BS + 100);
    const stats = await pre.finish();
    assert.equal(stats.failure, undefined);
    assert.equal(stats.blocksSent, 2);
    assert.equal(stats.bytesSent, 2 * BS);
    assert.equal(stats.zeroBlocks, 1);
    assert.equal(received() - before, 2, "Pithos received the two data blocks only");
  });

  test("the upload after a pre-send sends only the blocks changed since, and stores the file exactly", async () => {
    const path = await newFile("prepared.raw");
    // Room for every block: none is skipped, however slow the sender is on a loaded machine.
    const pre = pithos.presender("pre", path, { maxWaiting: 8 });
    for (let i = 0; i < 8; i++) {
      await writeBlock(path, i);
      pre.dataAt(i * BS, BS);
      pre.finalBelow((i + 1) * BS);
    }
    const stats = await pre.finish();
    assert.equal(stats.blocksSent, 8);
    assert.equal(stats.blocksSkipped, 0);
    // "Preparation": block 2 changes, the file is cut inside block 6 (its hash changes too).
    await writeBlock(path, 2, randomBytes(1000));
    await truncate(path, 6 * BS + 12_345);
    const result = await pithos.uploadFile("pre", "prepared.raw", path);
    assert.equal(result.blocksTotal, 7);
    assert.equal(result.blocksSent, 2, "only the changed blocks");
    const res = await pithos.getObject("pre", "prepared.raw");
    const remote = createHash("sha256");
    for await (const chunk of res.body) remote.update(chunk as Buffer);
    assert.equal(
      remote.digest("hex"),
      createHash("sha256")
        .update(await readFile(path))
        .digest("hex"),
    );
  });

  test("stops at once when its signal aborts, sending nothing more", async () => {
    const path = await newFile("canceled.raw");
    for (let i = 0; i < 4; i++) await writeBlock(path, i);
    const before = received();
    const controller = new AbortController();
    const pre = pithos.presender("pre", path, { signal: controller.signal });
    // Its container HEAD done, every block POST then hangs in Pithos until the abort.
    await new Promise((r) => setTimeout(r, 300));
    cloud.injection.set({ "object-store": { latencyMs: 3000 } });
    pre.dataAt(0, 4 * BS);
    pre.finalBelow(4 * BS);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    controller.abort(new Error("canceled"));
    const stats = await pre.finish();
    // Well under the POSTs' 3 s: it did not wait for them (a starved machine may take a second).
    assert.ok(Date.now() - started < 2000, `finish took ${Date.now() - started} ms`);
    assert.equal(stats.blocksSent, 0);
    pre.dataAt(4 * BS, BS);
    pre.finalBelow(5 * BS);
    // Past the POSTs' latency: a request that was not really dropped would have been stored by now.
    await new Promise((r) => setTimeout(r, 3500));
    cloud.injection.set({});
    assert.equal(received() - before, 0, "no block reached Pithos");
  });

  test("a stop does not wait for a container creation that hangs", async () => {
    const controller = new AbortController();
    const pre = pithos.presender("pre", join(dir, "never.raw"), {
      prepare: () => new Promise(() => {}),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("canceled")), 100);
    const stats = await pre.finish();
    assert.equal(stats.blocksSent, 0);
  });

  test("a Pithos refusing block POSTs stops it without throwing; the upload still stores the file", async () => {
    const path = await newFile("refused.raw");
    cloud.injection.set({ "object-store": { failBlockPosts: true } });
    const pre = pithos.presender("pre", path);
    for (let i = 0; i < 3; i++) {
      await writeBlock(path, i);
      pre.dataAt(i * BS, BS);
      pre.finalBelow((i + 1) * BS);
    }
    const stats = await pre.finish();
    cloud.injection.set({});
    assert.equal(stats.blocksSent, 0);
    assert.match(stats.failure ?? "", /Service Unavailable/);
    const result = await pithos.uploadFile("pre", "refused.raw", path);
    assert.equal(result.blocksSent, 3);
    const head = await pithos.headObject("pre", "refused.raw");
    assert.equal(head.bytes, 3 * BS);
  });
});
