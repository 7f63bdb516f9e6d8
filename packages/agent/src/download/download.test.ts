import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError } from "../errors.ts";
import { LOOPBACK_SOURCE_POLICY, type SourceServer, startSourceServer } from "../testing/source-server.ts";
import { download } from "./download.ts";

describe("download", () => {
  let dir: string;
  let src: SourceServer;
  let data: Buffer;
  let sourcePath: string;
  const fast = { backoffMs: 10 };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-dl-"));
    src = await startSourceServer();
    data = randomBytes(3 * 1024 * 1024 + 123);
    sourcePath = join(dir, "source.bin");
    await writeFile(sourcePath, data);
  });
  after(async () => {
    await src.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function out(name: string): Promise<string> {
    return mkdtemp(join(dir, `${name}-`));
  }

  it("writes the file, names it after the URL and hashes it", async () => {
    src.serve("/images/bitnami-foo.zip", { path: sourcePath });
    const seen: number[] = [];
    const r = await download({
      url: `${src.url}/images/bitnami-foo.zip`,
      destDir: await out("plain"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      onProgress: (done) => seen.push(done),
    });
    assert.equal(r.fileName, "bitnami-foo.zip");
    assert.equal(r.bytes, data.length);
    assert.deepEqual(await readFile(r.path), data);
    assert.equal(r.sha256, createHash("sha256").update(data).digest("hex"));
    assert.equal(seen.at(-1), data.length);
    assert.ok(seen.length > 2, "progress is reported while the body arrives");
  });

  it("reports bytes as they arrive, not only when a 1 MiB write batch fills", async () => {
    // On a slow link a batch takes seconds; the build page would show no progress meanwhile.
    src.serve("/fine-progress.img", { path: sourcePath });
    const seen: number[] = [];
    await download({
      url: `${src.url}/fine-progress.img`,
      destDir: await out("fine"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      onProgress: (done) => seen.push(done),
    });
    assert.ok(
      seen.some((done) => done > 0 && done < 1 << 20),
      `progress before the first MiB is written: ${seen.slice(0, 5).join(", ")}…`,
    );
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      "progress never goes back",
    );
  });

  it("follows redirects and names the file after the final URL", async () => {
    src.serve("/real/disk.qcow2", { path: sourcePath });
    src.redirect("/go", "/real/disk.qcow2");
    const r = await download({
      url: `${src.url}/go`,
      destDir: await out("redir"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
    });
    assert.equal(r.fileName, "disk.qcow2");
    assert.equal(r.finalUrl, `${src.url}/real/disk.qcow2`);
    assert.equal(r.bytes, data.length);
  });

  it("resumes with Range after the connection drops mid-body", async () => {
    src.serve("/drop.zip", { path: sourcePath, dropAt: 1_500_000 });
    const lines: string[] = [];
    const r = await download({
      url: `${src.url}/drop.zip`,
      destDir: await out("drop"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      log: (l) => lines.push(l),
      ...fast,
    });
    assert.equal(r.resumes, 1);
    assert.deepEqual(await readFile(r.path), data);
    const ranges = src.requests.filter((q) => q.path === "/drop.zip").map((q) => q.range);
    assert.equal(ranges[0], undefined);
    assert.equal(ranges[1], "bytes=1500000-");
    assert.ok(lines.some((l) => l.includes("dropped at byte 1500000")));
  });

  it("keeps the bytes of a small body cut in its first chunk, and resumes after them", async () => {
    const small = join(dir, "small.bin");
    await writeFile(small, data.subarray(0, 12_345));
    src.serve("/small.bin", { path: small, dropAt: 5000 });
    const r = await download({
      url: `${src.url}/small.bin`,
      destDir: await out("small"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      ...fast,
    });
    assert.deepEqual(await readFile(r.path), data.subarray(0, 12_345));
    const ranges = src.requests.filter((q) => q.path === "/small.bin").map((q) => q.range);
    assert.deepEqual(ranges, [undefined, "bytes=5000-"]);
  });

  it("starts over when the server ignores Range", async () => {
    src.serve("/norange.bin", { path: sourcePath, dropAt: 1_000_000, ignoreRange: true });
    const r = await download({
      url: `${src.url}/norange.bin`,
      destDir: await out("norange"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      ...fast,
    });
    assert.deepEqual(await readFile(r.path), data);
    assert.equal(r.sha256, createHash("sha256").update(data).digest("hex"));
  });

  it("takes a chunked body and names the file from Content-Disposition", async () => {
    src.serve("/chunked.bin", { path: sourcePath, chunked: true, disposition: "named by server.img" });
    const r = await download({
      url: `${src.url}/chunked.bin`,
      destDir: await out("chunked"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
    });
    assert.equal(r.fileName, "named_by_server.img");
    assert.equal(r.bytes, data.length);
  });

  it("fails with download_not_found on 404, without retrying", async () => {
    const before = src.requests.length;
    await assert.rejects(
      download({
        url: `${src.url}/missing.zip`,
        destDir: await out("404"),
        maxBytes: 1 << 30,
        policy: LOOPBACK_SOURCE_POLICY,
        ...fast,
      }),
      (e: unknown) => e instanceof AgentError && e.code === "download_not_found" && e.step === "download",
    );
    assert.equal(src.requests.length - before, 1);
  });

  it("refuses a file over the cap from its Content-Length, and a chunked one while counting", async () => {
    src.serve("/big.bin", { path: sourcePath });
    src.serve("/big-chunked.bin", { path: sourcePath, chunked: true });
    for (const path of ["/big.bin", "/big-chunked.bin"]) {
      await assert.rejects(
        download({
          url: `${src.url}${path}`,
          destDir: await out("cap"),
          maxBytes: 1_000_000,
          policy: LOOPBACK_SOURCE_POLICY,
        }),
        (e: unknown) =>
          e instanceof AgentError && e.code === "download_too_large" && /1000000 bytes/.test(e.message),
      );
    }
  });

  it("checks the checksum from the manifest", async () => {
    src.serve("/sum.bin", { path: sourcePath });
    const good = createHash("sha256").update(data).digest("hex");
    const r = await download({
      url: `${src.url}/sum.bin`,
      destDir: await out("sum"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      checksum: { algorithm: "sha256", hex: good },
    });
    assert.equal(r.sha256, good);
    const md5 = createHash("md5").update(data).digest("hex");
    await download({
      url: `${src.url}/sum.bin`,
      destDir: await out("md5"),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      checksum: { algorithm: "md5", hex: md5 },
    });
    await assert.rejects(
      download({
        url: `${src.url}/sum.bin`,
        destDir: await out("badsum"),
        maxBytes: 1 << 30,
        policy: LOOPBACK_SOURCE_POLICY,
        checksum: { algorithm: "sha256", hex: "0".repeat(64) },
      }),
      (e: unknown) => e instanceof AgentError && e.code === "checksum_mismatch" && e.message.includes(good),
    );
  });

  it("gives up with download_failed when the server keeps failing", async () => {
    await assert.rejects(
      download({
        url: "http://127.0.0.1:1/x.zip",
        destDir: await out("refused"),
        maxBytes: 1 << 30,
        policy: LOOPBACK_SOURCE_POLICY,
        retries: 2,
        ...fast,
      }),
      (e: unknown) =>
        e instanceof AgentError && e.code === "download_failed" && /cannot reach/.test(e.message),
    );
  });

  it("stops at once when the signal aborts", async () => {
    src.serve("/slow.bin", { path: sourcePath, bytesPerSecond: 256 * 1024 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(
      download({
        url: `${src.url}/slow.bin`,
        destDir: await out("abort"),
        maxBytes: 1 << 30,
        policy: LOOPBACK_SOURCE_POLICY,
        signal: controller.signal,
      }),
      (e: unknown) => e instanceof AgentError && e.code === "stopped",
    );
    assert.ok(Date.now() - started < 3000);
  });
});
