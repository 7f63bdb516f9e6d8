import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type Devcloud,
  defaultConfig,
  objectStoreFactory,
  startDevcloud,
} from "@icaas/devcloud";
import { hashBlock } from "./block-hasher.ts";
import { SynnefoError } from "./errors.ts";
import { emptyBlockHash, merkleHash } from "./merkle.ts";
import { type ObjectInfo, PithosClient } from "./pithos.ts";

const MiB = 1024 * 1024;

describe("PithosClient against devcloud", () => {
  let dir: string;
  let cloud: Devcloud;
  let pithos: PithosClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-pithos-client-"));
    const config = defaultConfig();
    config.users[0]!.quotas = { diskspaceBytes: 64 * MiB };
    cloud = await startDevcloud({ dataDir: join(dir, "cloud"), config, services: [objectStoreFactory] });
    pithos = new PithosClient({
      storageUrl: `${cloud.url}/object-store/v1`,
      account: DEMO_USER_UUID,
      token: DEMO_TOKEN,
      backoffMs: 10,
    });
  });
  after(async () => {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("createContainer: created, then exists; getContainer reads block size, hash, policy and meta", async () => {
    assert.equal(await pithos.createContainer("images", { meta: { purpose: "builds" } }), "created");
    assert.equal(await pithos.createContainer("images"), "exists");
    assert.equal(await pithos.createContainer("capped", { quota: 1000, versioning: "none" }), "created");
    const info = await pithos.getContainer("images");
    assert.deepEqual(info, {
      blockSize: 4 * MiB,
      blockHash: "sha256",
      objectCount: 0,
      bytesUsed: 0,
      meta: { Purpose: "builds" },
      policy: { quota: "0", versioning: "auto", project: DEMO_USER_UUID },
    });
    assert.deepEqual((await pithos.getContainer("capped")).policy, {
      quota: "1000",
      versioning: "none",
      project: DEMO_USER_UUID,
    });
  });

  test("getContainer of a missing container is an itemNotFound SynnefoError", async () => {
    await assert.rejects(
      pithos.getContainer("missing"),
      (e: unknown) => e instanceof SynnefoError && e.status === 404 && e.service === "object-store",
    );
  });

  test("putObject returns the Merkle ETag; headObject reads it back with uuid, meta and type", async () => {
    const data = Buffer.concat([randomBytes(4 * MiB), randomBytes(100)]);
    const { etag } = await pithos.putObject("images", "dir/a b.bin", data, {
      contentType: "application/x-raw",
      meta: { os_family: "linux", description: "Ελληνικά" },
    });
    assert.equal(etag, merkleHash([hashBlock(data.subarray(0, 4 * MiB)), hashBlock(data.subarray(4 * MiB))]));
    const info = await pithos.headObject("images", "dir/a b.bin");
    assert.equal(info.name, "dir/a b.bin");
    assert.equal(info.bytes, data.length);
    assert.equal(info.hash, etag);
    assert.equal(info.contentType, "application/x-raw");
    assert.match(info.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(info.modifiedBy, DEMO_USER_UUID);
    assert.deepEqual(info.meta, { "Os-Family": "linux", Description: "Ελληνικά" });
    assert.equal(info.publicUrl, undefined);
  });

  test("an empty content type is never sent: the object gets application/octet-stream", async () => {
    // Pithos answers a missing type with 411 and stores an empty one as it is: a typeless object.
    await pithos.putObject("images", "typeless.bin", "x", { contentType: "" });
    assert.equal((await pithos.headObject("images", "typeless.bin")).contentType, "application/octet-stream");
    const path = join(dir, "typeless.img");
    await writeFile(path, randomBytes(1000));
    await pithos.uploadFile("images", "typeless.img", path, { contentType: "" });
    assert.equal((await pithos.headObject("images", "typeless.img")).contentType, "application/octet-stream");
  });

  test("getObject streams the whole object or an inclusive range", async () => {
    const data = randomBytes(10_000);
    await pithos.putObject("images", "range.bin", data);
    const whole = await pithos.getObject("images", "range.bin");
    assert.equal(whole.status, 200);
    assert.deepEqual(Buffer.from(await whole.body.arrayBuffer()), data);
    const part = await pithos.getObject("images", "range.bin", { range: [100, 199] });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.body.arrayBuffer()), data.subarray(100, 200));
    const tail = await pithos.getObject("images", "range.bin", { range: [9_990] });
    assert.deepEqual(Buffer.from(await tail.body.arrayBuffer()), data.subarray(9_990));
    await assert.rejects(
      pithos.getObject("images", "range.bin", { range: [20_000, 20_001] }),
      (e: unknown) => e instanceof SynnefoError && e.status === 416 && e.code === "rangeNotSatisfiable",
    );
  });

  test("getHashmap lists the block hashes", async () => {
    const data = randomBytes(4 * MiB + 1);
    await pithos.putObject("images", "hm.bin", data);
    assert.deepEqual(await pithos.getHashmap("images", "hm.bin"), {
      blockSize: 4 * MiB,
      blockHash: "sha256",
      bytes: data.length,
      hashes: [hashBlock(data.subarray(0, 4 * MiB)), hashBlock(data.subarray(4 * MiB))],
    });
  });

  test("listObjects pages with prefix, limit and marker; listAllObjects follows the markers", async () => {
    await pithos.createContainer("list");
    const names = ["a", "b/1", "b/2", "b/3", "c"];
    for (const name of names) await pithos.putObject("list", name, name, { meta: { n: name } });
    const page = await pithos.listObjects("list", { limit: 2 });
    assert.deepEqual(
      page.map((o) => o.name),
      ["a", "b/1"],
    );
    assert.equal(page[0]!.hash, createHash("sha256").update("a").digest("hex"));
    assert.deepEqual(page[0]!.meta, { N: "a" });
    assert.equal(page[0]!.bytes, 1);
    assert.deepEqual(
      (await pithos.listObjects("list", { prefix: "b/", marker: "b/1" })).map((o) => o.name),
      ["b/2", "b/3"],
    );
    const all: ObjectInfo[] = [];
    for await (const o of pithos.listAllObjects("list", { limit: 2 })) all.push(o);
    assert.deepEqual(
      all.map((o) => o.name),
      names,
    );
    await pithos.createContainer("empty");
    assert.deepEqual(await pithos.listObjects("empty"), []);
  });

  test("appendObject creates a missing object, appends, and with an offset is safe to resend", async () => {
    await pithos.appendObject("images", "build.log", "one\n");
    await pithos.appendObject("images", "build.log", "two\n");
    await pithos.appendObject("images", "build.log", "three\n", { offset: 8 });
    // The same positional append again (a retry after a lost answer) changes nothing.
    await pithos.appendObject("images", "build.log", "three\n", { offset: 8 });
    const res = await pithos.getObject("images", "build.log");
    assert.equal(await res.body.text(), "one\ntwo\nthree\n");
    assert.equal((await pithos.headObject("images", "build.log")).contentType, "text/plain; charset=utf-8");
  });

  test("updateMeta merges by default (empty value deletes) and replaces on request", async () => {
    await pithos.putObject("images", "meta.txt", "x", { meta: { a: "1", b: "2" } });
    await pithos.updateMeta("images", "meta.txt", { b: "", c: "3" });
    assert.deepEqual((await pithos.headObject("images", "meta.txt")).meta, { A: "1", C: "3" });
    await pithos.updateMeta("images", "meta.txt", { d: "4" }, { replace: true });
    assert.deepEqual((await pithos.headObject("images", "meta.txt")).meta, { D: "4" });
  });

  test("publish returns a public URL readable without a token; unpublish withdraws it", async () => {
    const data = randomBytes(3000);
    await pithos.putObject("images", "pub.bin", data);
    const url = await pithos.publish("images", "pub.bin");
    assert.match(url, /\/object-store\/public\/[0-9A-Za-z]{16}$/);
    assert.equal(await pithos.publish("images", "pub.bin"), url, "publishing again keeps the URL");
    const anon = await fetch(url);
    assert.equal(anon.status, 200);
    assert.deepEqual(Buffer.from(await anon.arrayBuffer()), data);
    assert.equal((await pithos.headObject("images", "pub.bin")).publicUrl, url);
    await pithos.unpublish("images", "pub.bin");
    assert.equal((await fetch(url)).status, 404);
    assert.equal((await pithos.headObject("images", "pub.bin")).publicUrl, undefined);
  });

  test("deleteObject and deleteContainer (409 while not empty)", async () => {
    await pithos.createContainer("gone");
    await pithos.putObject("gone", "x", "x");
    await assert.rejects(
      pithos.deleteContainer("gone"),
      (e: unknown) => e instanceof SynnefoError && e.status === 409 && e.message === "Container is not empty",
    );
    await pithos.deleteObject("gone", "x");
    await assert.rejects(
      pithos.headObject("gone", "x"),
      (e: unknown) => e instanceof SynnefoError && e.status === 404,
    );
    await pithos.deleteContainer("gone");
    await assert.rejects(
      pithos.getContainer("gone"),
      (e: unknown) => e instanceof SynnefoError && e.status === 404,
    );
  });

  test("uploadFile: small file, meta and publishing, then a second upload sends nothing", async () => {
    const path = join(dir, "small.img");
    const data = Buffer.concat([randomBytes(5 * MiB), Buffer.alloc(4 * MiB), randomBytes(10)]);
    await writeFile(path, data);
    const phases = new Set<string>();
    const first = await pithos.uploadFile("images", "small.img", path, {
      meta: { kind: "disk" },
      public: true,
      contentType: "application/x-diskdump",
      onProgress: (_done, _total, phase) => phases.add(phase),
    });
    assert.deepEqual([...phases], ["hash", "upload"]);
    assert.equal(first.bytes, data.length);
    assert.equal(first.blocksTotal, 3);
    assert.equal(first.etag, first.hash);
    const info = await pithos.headObject("images", "small.img");
    assert.equal(info.hash, first.hash);
    assert.deepEqual(info.meta, { Kind: "disk" });
    assert.equal(info.contentType, "application/x-diskdump");
    assert.ok(info.publicUrl);
    const body = await pithos.getObject("images", "small.img");
    assert.deepEqual(Buffer.from(await body.body.arrayBuffer()), data);
    const second = await pithos.uploadFile("images", "small.img-copy", path);
    assert.equal(second.blocksSent, 0);
    assert.equal(second.hash, first.hash);
  });

  test("uploadFile: an empty file, and a holes-only file sent one block at a time", async () => {
    const empty = join(dir, "empty.img");
    await writeFile(empty, "");
    const none = await pithos.uploadFile("images", "empty.img", empty);
    assert.deepEqual([none.bytes, none.blocksTotal, none.blocksSent], [0, 0, 0]);
    assert.equal(none.hash, emptyBlockHash());
    assert.equal((await pithos.headObject("images", "empty.img")).bytes, 0);
    const sparse = join(dir, "sparse.img");
    await writeFile(sparse, "");
    await truncate(sparse, 10 * MiB + 3);
    const holes = await pithos.uploadFile("images", "sparse.img", sparse, { concurrency: 1 });
    assert.equal(holes.blocksTotal, 3);
    assert.ok(holes.blocksSent <= 1, "at most the all-zero block is sent, once");
    const body = await pithos.getObject("images", "sparse.img");
    assert.deepEqual(Buffer.from(await body.body.arrayBuffer()), Buffer.alloc(10 * MiB + 3));
  });

  test("storage quota: an upload over the user's quota is a 413 with Astakos' message", async () => {
    const path = join(dir, "big.img");
    await writeFile(path, randomBytes(70 * MiB));
    await assert.rejects(pithos.uploadFile("images", "big.img", path), (e: unknown) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.status, 413);
      assert.equal(e.message, "Resource Limit Exceeded for your account.");
      assert.match(
        e.details ?? "",
        /^Limit for resource 'Storage space' exceeded for your account\. Available: \d+, Requested: 73400320$/,
      );
      return true;
    });
  });
});
