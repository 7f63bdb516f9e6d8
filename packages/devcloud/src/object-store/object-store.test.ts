import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { emptyBlockHash, hashBlock, merkleHash } from "@icaas/synnefo";
import {
  type Answer,
  call,
  DEMO_USER_UUID,
  OTHER_TOKEN,
  OTHER_UUID,
  SMALL_QUOTA,
  SMALL_TOKEN,
  SMALL_UUID,
  startTestCloud,
  type TestCloud,
} from "./test-helpers.ts";

const MiB = 1024 * 1024;
const BS = 4 * MiB;

function fault(name: string, code: number, message: string, details = ""): unknown {
  return { [name]: { code, message, details } };
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function merkleOf(data: Buffer): string {
  const hashes: string[] = [];
  for (let i = 0; i < data.length; i += BS) hashes.push(hashBlock(data.subarray(i, i + BS)));
  return merkleHash(hashes);
}

describe("devcloud object-store (Pithos)", () => {
  let t: TestCloud;
  let acct: string;
  const put = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    call(`${acct}${path}`, {
      method: "PUT",
      body,
      headers: { "content-type": "application/octet-stream", ...headers },
    });

  before(async () => {
    t = await startTestCloud();
    acct = `${t.store}/${DEMO_USER_UUID}`;
  });
  after(async () => {
    await t.close();
  });

  test("containers: PUT 201 then 202, HEAD 204 with block size, hash, counts and policy", async () => {
    const first = await call(`${acct}/images`, {
      method: "PUT",
      headers: { "x-container-meta-color": "blue" },
    });
    assert.equal(first.status, 201);
    const again = await call(`${acct}/images`, { method: "PUT" });
    assert.equal(again.status, 202);
    const head = await call(`${acct}/images`, { method: "HEAD" });
    assert.equal(head.status, 204);
    assert.equal(head.headers.get("x-container-block-size"), String(BS));
    assert.equal(head.headers.get("x-container-block-hash"), "sha256");
    assert.equal(head.headers.get("x-container-object-count"), "0");
    assert.equal(head.headers.get("x-container-bytes-used"), "0");
    assert.equal(head.headers.get("x-container-policy-quota"), "0");
    assert.equal(head.headers.get("x-container-policy-versioning"), "auto");
    assert.equal(head.headers.get("x-container-policy-project"), DEMO_USER_UUID);
    assert.equal(head.headers.get("x-container-meta-color"), "blue");
    assert.ok(head.headers.get("last-modified"));
  });

  test("containers: a wrong policy is a 400 with Pithos' message", async () => {
    const bad = await call(`${acct}/bad`, { method: "PUT", headers: { "x-container-policy-color": "red" } });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.json(),
      fault("badRequest", 400, "The only allowed policies are 'quota' or 'versioning'."),
    );
    const quota = await call(`${acct}/bad`, { method: "PUT", headers: { "x-container-policy-quota": "-1" } });
    assert.deepEqual(
      quota.json(),
      fault("badRequest", 400, "The quota policy value should be a positive integer."),
    );
    assert.equal((await call(`${acct}/bad`, { method: "HEAD" })).status, 404);
  });

  test("objects: PUT needs a Content-Type (411), answers 201 with the Merkle ETag and a version", async () => {
    const noType = await call(`${acct}/images/notype`, { method: "PUT", body: Buffer.from("x") });
    assert.equal(noType.status, 411);
    assert.deepEqual(noType.json(), fault("lengthRequired", 411, "Missing Content-Type header"));
    const data = Buffer.concat([randomBytes(BS + 1000), Buffer.alloc(2 * MiB)]);
    const res = await put("/images/dir/data.bin", data, { "x-object-meta-os_family": "linux" });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("etag"), merkleOf(data));
    assert.match(res.headers.get("x-object-version") ?? "", /^\d+$/);
    const get = await call(`${acct}/images/dir/data.bin`);
    assert.equal(get.status, 200);
    assert.equal(sha256(get.body), sha256(data));
    assert.equal(get.headers.get("content-length"), String(data.length));
  });

  test("objects: PUT to a missing container is a 404", async () => {
    const res = await put("/nope/x", "x");
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), fault("itemNotFound", 404, "Container does not exist"));
  });

  test("hashmap upload: 409 lists missing blocks, block POST stores them (202), PUT again → 201", async () => {
    const blocks = [randomBytes(BS), randomBytes(BS), Buffer.concat([randomBytes(100), Buffer.alloc(50)])];
    const hashes = blocks.map((b) => hashBlock(b));
    const bytes = blocks.reduce((n, b) => n + b.length, 0);
    const before = (await call(`${t.cloud.url}/_devcloud/counters`)).json() as Record<string, number>;
    const body = JSON.stringify({ bytes, hashes: [...hashes, hashes[0]] });
    const wrongCount = await put("/images/hm.bin?hashmap&format=json", body);
    assert.equal(wrongCount.status, 400);
    assert.deepEqual(
      wrongCount.json(),
      fault("badRequest", 400, "The object's size does not match with the object's hashmap length"),
    );
    const badHash = await put(
      "/images/hm.bin?hashmap&format=json",
      JSON.stringify({ bytes: 1, hashes: ["xyz"] }),
    );
    assert.deepEqual(badHash.json(), fault("badRequest", 400, "Invalid hash: xyz"));
    const notJson = await put("/images/hm.bin?hashmap&format=json", "not json");
    assert.deepEqual(notJson.json(), fault("badRequest", 400, "Invalid data formatting"));

    const map = JSON.stringify({ bytes, hashes });
    const first = await put("/images/hm.bin?hashmap&format=json", map);
    assert.equal(first.status, 409);
    assert.match(first.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(first.json(), hashes);
    for (const [i, block] of blocks.entries()) {
      const post = await call(`${acct}/images?update&format=json`, {
        method: "POST",
        body: block,
        headers: { "content-type": "application/octet-stream" },
      });
      assert.equal(post.status, 202);
      assert.deepEqual(post.json(), [hashes[i]]);
    }
    const second = await put("/images/hm.bin?hashmap&format=json", map);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get("etag"), merkleHash(hashes));
    const after = (await call(`${t.cloud.url}/_devcloud/counters`)).json() as Record<string, number>;
    assert.equal(after["pithos.blocksReceived"]! - (before["pithos.blocksReceived"] ?? 0), 3);
    assert.equal(after["pithos.hashmapPuts"]! - (before["pithos.hashmapPuts"] ?? 0), 5);
    assert.equal(after["pithos.bytesReceived"]! - (before["pithos.bytesReceived"] ?? 0), bytes);
    const got = await call(`${acct}/images/hm.bin`);
    assert.equal(sha256(got.body), sha256(Buffer.concat(blocks)));
    const hm = await call(`${acct}/images/hm.bin?hashmap&format=json`);
    assert.deepEqual(hm.json(), { block_size: BS, block_hash: "sha256", bytes, hashes });
  });

  test("hashmap upload: one POST body of several blocks is split into blocks", async () => {
    const a = randomBytes(BS);
    const b = randomBytes(1234);
    const post = await call(`${acct}/images?update&format=json`, {
      method: "POST",
      body: Buffer.concat([a, b]),
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(post.status, 202);
    assert.deepEqual(post.json(), [hashBlock(a), hashBlock(b)]);
  });

  test("hashmap upload: an empty object needs no block and hashes to sha256('')", async () => {
    const res = await put("/images/empty?hashmap&format=json", JSON.stringify({ bytes: 0, hashes: [] }));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("etag"), emptyBlockHash());
    const get = await call(`${acct}/images/empty`);
    assert.equal(get.status, 200);
    assert.equal(get.body.length, 0);
  });

  test("container POST with a charset is a metadata update: no blocks, and without ?update meta is cleared", async () => {
    await call(`${acct}/metas`, { method: "PUT", headers: { "x-container-meta-keep": "1" } });
    const post = await call(`${acct}/metas`, {
      method: "POST",
      body: randomBytes(100),
      headers: { "content-type": "application/octet-stream; charset=utf-8" },
    });
    assert.equal(post.status, 202);
    assert.equal(post.text, "");
    const head = await call(`${acct}/metas`, { method: "HEAD" });
    assert.equal(head.headers.get("x-container-meta-keep"), null);
  });

  test("HEAD object: 200 with hash, uuid, version, canonical meta; meta limits are 400s", async () => {
    const data = Buffer.from("hello");
    await put("/images/meta.txt", data, {
      "content-type": "text/plain",
      "x-object-meta-foo_bar": "one",
      "X-Object-Meta-OSFAMILY": "linux",
    });
    const head = await call(`${acct}/images/meta.txt`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "5");
    assert.equal(head.headers.get("content-type"), "text/plain");
    assert.equal(head.headers.get("etag"), sha256(data));
    assert.equal(head.headers.get("x-object-hash"), sha256(data));
    assert.match(head.headers.get("x-object-uuid") ?? "", /^[0-9a-f-]{36}$/);
    assert.match(head.headers.get("x-object-version") ?? "", /^\d+$/);
    assert.equal(head.headers.get("x-object-modified-by"), DEMO_USER_UUID);
    assert.equal(head.headers.get("x-object-meta-foo-bar"), "one");
    assert.equal(head.headers.get("x-object-meta-osfamily"), "linux");
    assert.equal(head.headers.get("x-object-public"), null);

    const tooLong = await put("/images/m2", "x", { "x-object-meta-k": "v".repeat(257) });
    assert.deepEqual(tooLong.json(), fault("badRequest", 400, "Header value too large."));
    const many: Record<string, string> = {};
    for (let i = 0; i < 33; i++) many[`x-object-meta-k${i}`] = "v";
    const tooMany = await put("/images/m2", "x", many);
    assert.deepEqual(
      tooMany.json(),
      fault("badRequest", 400, "Pithos+ resources cannot have more than 32 metadata items per domain"),
    );
  });

  test("POST object metadata: ?update merges and empty deletes; without it replaces; each is a new version", async () => {
    await put("/images/pm.txt", "x", { "x-object-meta-a": "1", "x-object-meta-b": "2" });
    const v1 = (await call(`${acct}/images/pm.txt`, { method: "HEAD" })).headers.get("x-object-version");
    const merge = await call(`${acct}/images/pm.txt?update`, {
      method: "POST",
      headers: { "x-object-meta-b": "", "x-object-meta-c": "3" },
    });
    assert.equal(merge.status, 202);
    let head = await call(`${acct}/images/pm.txt`, { method: "HEAD" });
    assert.equal(head.headers.get("x-object-meta-a"), "1");
    assert.equal(head.headers.get("x-object-meta-b"), null);
    assert.equal(head.headers.get("x-object-meta-c"), "3");
    assert.ok(Number(head.headers.get("x-object-version")) > Number(v1));
    const replace = await call(`${acct}/images/pm.txt`, {
      method: "POST",
      headers: { "x-object-meta-d": "4" },
    });
    assert.equal(replace.status, 202);
    head = await call(`${acct}/images/pm.txt`, { method: "HEAD" });
    assert.equal(head.headers.get("x-object-meta-a"), null);
    assert.equal(head.headers.get("x-object-meta-d"), "4");
    const missing = await call(`${acct}/images/none.txt?update`, { method: "POST" });
    assert.deepEqual(missing.json(), fault("itemNotFound", 404, "Object does not exist"));
  });

  test("POST object data: Content-Range bytes */* appends (204), positional writes patch blocks", async () => {
    await put("/images/log.txt", "line 1\n", { "content-type": "text/plain" });
    const append = (body: string | Buffer, range: string) =>
      call(`${acct}/images/log.txt?update`, {
        method: "POST",
        body,
        headers: { "content-type": "application/octet-stream", "content-range": range },
      });
    const res = await append("line 2\n", "bytes */*");
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
    assert.equal((await call(`${acct}/images/log.txt`)).text, "line 1\nline 2\n");
    assert.equal(res.headers.get("etag"), sha256(Buffer.from("line 1\nline 2\n")));
    // A positional write at the current size is an idempotent append.
    assert.equal((await append("line 3\n", "bytes 14-20/*")).status, 204);
    assert.equal((await append("LINE", "bytes 0-3/*")).status, 204);
    const get = await call(`${acct}/images/log.txt`);
    assert.equal(get.text, "LINE 1\nline 2\nline 3\n");
    assert.equal(get.headers.get("content-type"), "text/plain");
    const big = randomBytes(BS + 10);
    assert.equal((await append(big, "bytes */*")).status, 204);
    const all = await call(`${acct}/images/log.txt`);
    assert.equal(sha256(all.body), sha256(Buffer.concat([Buffer.from("LINE 1\nline 2\nline 3\n"), big])));
    assert.equal(all.headers.get("etag"), merkleOf(all.body));

    const noRange = await call(`${acct}/images/log.txt`, {
      method: "POST",
      body: "x",
      headers: { "content-type": "application/octet-stream" },
    });
    assert.deepEqual(noRange.json(), fault("badRequest", 400, "Missing Content-Range header"));
    const beyond = await append("x", "bytes 999999999-999999999/*");
    assert.equal(beyond.status, 416);
    assert.deepEqual(
      beyond.json(),
      fault("rangeNotSatisfiable", 416, "Supplied offset is beyond object limits"),
    );
  });

  test("GET with Range: 206 with Content-Range, 416 outside, several ranges as multipart", async () => {
    const data = randomBytes(BS + 500);
    await put("/images/range.bin", data);
    const one = await call(`${acct}/images/range.bin`, { headers: { range: `bytes=${BS - 10}-${BS + 9}` } });
    assert.equal(one.status, 206);
    assert.equal(one.headers.get("content-range"), `bytes ${BS - 10}-${BS + 9}/${data.length}`);
    assert.deepEqual(one.body, data.subarray(BS - 10, BS + 10));
    const suffix = await call(`${acct}/images/range.bin`, { headers: { range: "bytes=-100" } });
    assert.deepEqual(suffix.body, data.subarray(data.length - 100));
    const outside = await call(`${acct}/images/range.bin`, { headers: { range: `bytes=0-${data.length}` } });
    assert.equal(outside.status, 416);
    assert.deepEqual(
      outside.json(),
      fault("rangeNotSatisfiable", 416, "Requested range exceeds object limits"),
    );
    const multi = await call(`${acct}/images/range.bin`, { headers: { range: "bytes=0-9,100-109" } });
    assert.equal(multi.status, 206);
    const type = multi.headers.get("content-type") ?? "";
    const boundary = /boundary=(\w+)/.exec(type)?.[1];
    assert.ok(boundary, type);
    const expected = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Range: bytes 0-9/${data.length}\r\nContent-Transfer-Encoding: binary\r\n\r\n`,
      ),
      data.subarray(0, 10),
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Range: bytes 100-109/${data.length}\r\nContent-Transfer-Encoding: binary\r\n\r\n`,
      ),
      data.subarray(100, 110),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    assert.deepEqual(multi.body, expected);
  });

  test("objects with zero blocks and trailing zeros read back exactly", async () => {
    const data = Buffer.concat([
      Buffer.alloc(BS),
      randomBytes(10),
      Buffer.alloc(BS),
      Buffer.from([1]),
      Buffer.alloc(7),
    ]);
    const res = await put("/images/sparse.bin", data);
    assert.equal(res.headers.get("etag"), merkleOf(data));
    const get = await call(`${acct}/images/sparse.bin`);
    assert.equal(sha256(get.body), sha256(data));
  });

  test("listing: text (204 when empty) and JSON with limit, marker, prefix, delimiter", async () => {
    await call(`${acct}/list`, { method: "PUT" });
    const empty = await call(`${acct}/list`);
    assert.equal(empty.status, 204);
    const emptyJson = await call(`${acct}/list?format=json`);
    assert.equal(emptyJson.status, 200);
    assert.deepEqual(emptyJson.json(), []);
    for (const name of ["a.txt", "b/1.txt", "b/2.txt", "c.txt"]) {
      await put(`/list/${name}`, name, { "x-object-meta-name": name });
    }
    const text = await call(`${acct}/list`);
    assert.equal(text.status, 200);
    assert.equal(text.text, "a.txt\nb/1.txt\nb/2.txt\nc.txt\n");
    assert.equal((await call(`${acct}/list?limit=2&marker=a.txt`)).text, "b/1.txt\nb/2.txt\n");
    assert.equal((await call(`${acct}/list?prefix=b/`)).text, "b/1.txt\nb/2.txt\n");
    const dirs = (await call(`${acct}/list?delimiter=/&format=json`)).json() as Record<string, unknown>[];
    assert.deepEqual(
      dirs.map((d) => d.name ?? d.subdir),
      ["a.txt", "b/", "c.txt"],
    );
    const json = (await call(`${acct}/list?format=json&limit=1`)).json() as Record<string, unknown>[];
    assert.equal(json.length, 1);
    const item = json[0]!;
    assert.equal(item.name, "a.txt");
    assert.equal(item.bytes, 5);
    assert.equal(item.content_type, "application/octet-stream");
    assert.equal(item.hash, "");
    assert.equal(item.x_object_hash, sha256(Buffer.from("a.txt")));
    assert.match(String(item.x_object_uuid), /^[0-9a-f-]{36}$/);
    assert.equal(item.x_object_meta_name, "a.txt");
    assert.equal(item.x_object_modified_by, DEMO_USER_UUID);
    assert.ok(item.last_modified);
  });

  test("account: HEAD 204 with counts, GET lists containers", async () => {
    const head = await call(acct, { method: "HEAD" });
    assert.equal(head.status, 204);
    assert.ok(Number(head.headers.get("x-account-container-count")) >= 3);
    const list = (await call(`${acct}?format=json`)).json() as { name: string }[];
    assert.ok(list.some((c) => c.name === "images"));
  });

  test("DELETE: 409 for a container with objects, 204 for objects and empty containers", async () => {
    await call(`${acct}/del`, { method: "PUT" });
    await put("/del/x", "x");
    const full = await call(`${acct}/del`, { method: "DELETE" });
    assert.equal(full.status, 409);
    assert.deepEqual(full.json(), fault("conflict", 409, "Container is not empty"));
    assert.equal((await call(`${acct}/del/x`, { method: "DELETE" })).status, 204);
    assert.equal((await call(`${acct}/del/x`, { method: "HEAD" })).status, 404);
    assert.equal((await call(`${acct}/del`, { method: "DELETE" })).status, 204);
    assert.equal((await call(`${acct}/del`, { method: "HEAD" })).status, 404);
  });

  test("publish: X-Object-Public gives a 16-character public URL served without a token; unpublish ends it", async () => {
    const data = randomBytes(1000);
    await put("/images/pub.bin", data);
    const publish = await call(`${acct}/images/pub.bin?update`, {
      method: "POST",
      headers: { "x-object-public": "true" },
    });
    assert.equal(publish.status, 202);
    const url =
      (await call(`${acct}/images/pub.bin`, { method: "HEAD" })).headers.get("x-object-public") ?? "";
    assert.match(url, new RegExp(`^${t.cloud.url}/object-store/public/[0-9A-Za-z]{16}$`));
    const anon = await call(url, { token: null });
    assert.equal(anon.status, 200);
    assert.deepEqual(anon.body, data);
    assert.equal(anon.headers.get("x-object-uuid"), null);
    assert.equal(anon.headers.get("etag"), sha256(data));
    const anonHead = await call(url, { method: "HEAD", token: null });
    assert.equal(anonHead.status, 200);
    await call(`${acct}/images/pub.bin?update`, { method: "POST", headers: { "x-object-public": "false" } });
    const gone = await call(url, { token: null });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json(), fault("itemNotFound", 404, "Object does not exist"));
    const bad = await call(`${acct}/images/pub.bin?update`, {
      method: "POST",
      headers: { "x-object-public": "maybe" },
    });
    assert.deepEqual(bad.json(), fault("badRequest", 400, "Bad X-Object-Public header value"));
  });

  test("auth: no token 401, bad token 401 relayed as fault, other users 403 unless shared", async () => {
    const none = await call(`${acct}/images`, { method: "GET", token: null });
    assert.equal(none.status, 401);
    assert.deepEqual(none.json(), fault("unauthorized", 401, "Access denied. No authentication token"));
    const bad = await call(`${acct}/images`, { token: "nope" });
    assert.equal(bad.status, 401);
    assert.equal(Object.keys(bad.json() as object)[0], "fault");
    const other = await call(`${acct}/images`, { token: OTHER_TOKEN });
    assert.equal(other.status, 403);
    await put("/images/shared.txt", "s", { "x-object-sharing": `read=${OTHER_UUID}` });
    const shared = await call(`${acct}/images/shared.txt`, { token: OTHER_TOKEN });
    assert.equal(shared.status, 200);
    assert.equal(shared.text, "s");
    assert.equal(shared.headers.get("x-object-sharing"), `read=${OTHER_UUID}`);
    assert.equal(shared.headers.get("x-object-allowed-to"), "read");
    assert.equal((await call(`${acct}/images/meta.txt`, { token: OTHER_TOKEN })).status, 403);
    const write = await call(`${acct}/images/shared.txt`, {
      method: "PUT",
      body: "w",
      token: OTHER_TOKEN,
      headers: { "content-type": "text/plain" },
    });
    assert.equal(write.status, 403);
  });

  test("unknown paths are 400, wrong methods 405 with Allow", async () => {
    const root = await call(`${t.store}`);
    assert.equal(root.status, 400);
    assert.deepEqual(root.json(), fault("badRequest", 400, "API endpoint not found"));
    const patch = await call(`${acct}/images/meta.txt`, { method: "PATCH" });
    assert.equal(patch.status, 405);
    assert.match(patch.headers.get("allow") ?? "", /GET/);
  });

  test("quotas: the owner's storage quota → 413 fault; a container quota → 413 requestEntityTooLarge", async () => {
    const small = `${t.store}/${SMALL_UUID}`;
    const as = (path: string, init: Parameters<typeof call>[1]) =>
      call(`${small}${path}`, { token: SMALL_TOKEN, ...init });
    assert.equal((await as("/c", { method: "PUT" })).status, 201);
    const ok = await as("/c/a", {
      method: "PUT",
      body: randomBytes(6 * MiB),
      headers: { "content-type": "x/y" },
    });
    assert.equal(ok.status, 201);
    const over: Answer = await as("/c/b", {
      method: "PUT",
      body: randomBytes(5 * MiB),
      headers: { "content-type": "x/y" },
    });
    assert.equal(over.status, 413);
    assert.deepEqual(
      over.json(),
      fault(
        "fault",
        413,
        "Resource Limit Exceeded for your account.",
        `Limit for resource 'Storage space' exceeded for your account. Available: ${SMALL_QUOTA - 6 * MiB}, Requested: ${5 * MiB}`,
      ),
    );
    assert.equal((await as("/c/b", { method: "HEAD" })).status, 404);
    // Replacing an object only charges the difference.
    const replace = await as("/c/a", {
      method: "PUT",
      body: randomBytes(7 * MiB),
      headers: { "content-type": "x/y" },
    });
    assert.equal(replace.status, 201);

    await as("/q", { method: "PUT", headers: { "x-container-policy-quota": "100" } });
    const q = await as("/q/x", { method: "PUT", body: randomBytes(101), headers: { "content-type": "x/y" } });
    assert.equal(q.status, 413);
    assert.deepEqual(
      q.json(),
      fault("requestEntityTooLarge", 413, "Quota error: Container quota exceeded: limit: 100, usage: 101"),
    );
  });

  test("restart: objects, hashes, metadata, public URLs and versions survive", async () => {
    const data = Buffer.concat([randomBytes(BS), Buffer.alloc(BS), randomBytes(99)]);
    const res = await put("/images/persist.bin", data, {
      "x-object-meta-kept": "yes",
      "x-object-public": "true",
    });
    const before = await call(`${acct}/images/persist.bin`, { method: "HEAD" });
    await t.restart();
    acct = `${t.store}/${DEMO_USER_UUID}`;
    const head = await call(`${acct}/images/persist.bin`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), res.headers.get("etag"));
    assert.equal(head.headers.get("x-object-uuid"), before.headers.get("x-object-uuid"));
    assert.equal(head.headers.get("x-object-meta-kept"), "yes");
    const get = await call(`${acct}/images/persist.bin`);
    assert.equal(sha256(get.body), sha256(data));
    const publicPath = new URL(before.headers.get("x-object-public") ?? "").pathname;
    assert.equal((await call(`${t.cloud.url}${publicPath}`, { token: null })).status, 200);
    const next = await put("/images/after-restart", "x");
    assert.ok(Number(next.headers.get("x-object-version")) > Number(before.headers.get("x-object-version")));
    const container = await call(`${acct}/images`, { method: "HEAD" });
    assert.ok(Number(container.headers.get("x-container-object-count")) > 5);
  });
});
