import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ManifestSections, toRawManifest } from "@icaas/contract";
import { DEFAULT_SOURCE_POLICY } from "@icaas/source-policy";
import { AgentError } from "./errors.ts";
import {
  completeManifest,
  ManifestLoadError,
  readManifestFile,
  serviceSettings,
  validateManifest,
} from "./manifest.ts";

const FULL = {
  progress: { heuristic: 6.75, interval: 2 },
  image: {
    src: "https://example.org/bitnami-x.zip",
    name: "X",
    container: "images",
    object: "x.raw",
    public: "True",
  },
  service: { status: "http://127.0.0.1:1/icaas/builds/agent/7", token: "agent-token-123", insecure: "False" },
  synnefo: { url: "http://127.0.0.1:1/identity/v2.0", token: "user-token-456" },
  log: { container: "icaas", object: "x.log" },
  limits: { max_download_bytes: 1000, build_timeout_seconds: 60 },
} satisfies ManifestSections;

describe("manifest", () => {
  let dir: string;
  let server: Server;
  let base: string;
  let served = 0;
  let failFirst = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-manifest-"));
    server = createServer((req, res) => {
      if (req.url === "/icaas/builds/agent/7/nonce-abc") {
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(503).end("busy");
          return;
        }
        served++;
        if (served > 1) {
          res.writeHead(403, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: "Manifest retrieval is forbidden", status: 403 }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ manifest: FULL }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("fetches the full manifest once from [manifest] url and merges it over the file", async () => {
    const path = join(dir, "manifest.cfg");
    await writeFile(path, `[manifest]\nurl = ${base}/icaas/builds/agent/7/nonce-abc\n\n`);
    const raw = await completeManifest(await readManifestFile(path));
    const m = validateManifest(raw);
    assert.equal(m.image.src, FULL.image.src);
    assert.equal(m.image.public, true);
    assert.equal(m.service.insecure, false);
    assert.equal(m.progress.intervalSeconds, 2);
    assert.equal(m.limits.maxDownloadBytes, 1000);
    assert.equal(m.limits.buildTimeoutSeconds, 60);
    assert.equal(m.limits.minBytesPerSecond, 32 * 1024, "the default throughput rule");
    assert.equal(m.limits.throughputWindowSeconds, 60);
    // Served once: a second agent with the same URL is refused, with the original's wording.
    await assert.rejects(completeManifest(await readManifestFile(path)), (e: unknown) => {
      assert.ok(e instanceof ManifestLoadError);
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /Fetching manifest from .* failed: \(403\)/);
      assert.doesNotMatch(e.message, /nonce-abc/, "the nonce is not shown");
      return true;
    });
  });

  it("retries the fetch on a 5xx", async () => {
    served = 0;
    failFirst = 2;
    const raw = await completeManifest(
      { manifest: { url: `${base}/icaas/builds/agent/7/nonce-abc` } },
      { backoffMs: 5 },
    );
    assert.equal(raw.image?.name, "X");
  });

  it("takes a manifest with every section inline (older services), with ini booleans as strings", async () => {
    const path = join(dir, "inline.cfg");
    await writeFile(
      path,
      [
        "[service]",
        "status = http://svc/icaas/builds/agent/1",
        "token = t0k3n",
        "insecure = true",
        "[synnefo]",
        "url = http://astakos/identity/v2.0",
        "token = usertok",
        "[image]",
        "src = http://example.org/bitnami-y.zip",
        "name = Y",
        "container = images",
        "object = y.raw",
        "public = False",
        `checksum = sha256:${"ab".repeat(32)}`,
        "[log]",
        "container = icaas",
        "object = y.log",
        "",
      ].join("\n"),
    );
    const raw = await completeManifest(await readManifestFile(path));
    const m = validateManifest(raw);
    assert.equal(m.service.insecure, true);
    assert.equal(m.image.public, false);
    assert.deepEqual(m.image.checksum, { algorithm: "sha256", hex: "ab".repeat(32) });
    assert.equal(m.progress.intervalSeconds, 5);
    assert.deepEqual(m.source, DEFAULT_SOURCE_POLICY, "no [source] section: the default policy");
  });

  it("reads the source policy from [source] and the throughput rule from [limits]; refuses a bad allow-list entry", () => {
    const raw = toRawManifest(JSON.parse(JSON.stringify(FULL)));
    raw.source = { allow_private: "False", allow: "mirror.lan:8080,10.9.0.0/16" };
    const m = validateManifest(raw);
    assert.equal(m.source.allowPrivate, false);
    assert.deepEqual(
      m.source.allow.map((r) => r.text),
      ["mirror.lan:8080", "10.9.0.0/16"],
    );
    raw.limits = { min_bytes_per_second: "1000", throughput_window_seconds: "0.5" };
    assert.deepEqual(
      [validateManifest(raw).limits.minBytesPerSecond, validateManifest(raw).limits.throughputWindowSeconds],
      [1000, 0.5],
    );
    raw.source = { allow: "10.0.0.0/99" };
    assert.throws(
      () => validateManifest(raw),
      (e: unknown) =>
        e instanceof AgentError && e.code === "manifest_invalid" && /10\.0\.0\.0\/99/.test(e.message),
    );
  });

  it("names a missing key with the original's message, in the original's order", () => {
    const raw = JSON.parse(JSON.stringify(FULL)) as Record<string, Record<string, string>>;
    delete raw.image!.container;
    delete raw.log!.object;
    assert.throws(
      () => validateManifest(raw),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === "manifest_invalid" &&
        e.message === "`container' is missing from the `image' section of the manifest",
    );
    delete raw.synnefo!.token;
    assert.throws(() => validateManifest(raw), /`token' is missing from the `synnefo' section/);
  });

  it("cannot report without [service] status and token (exit 3)", () => {
    assert.throws(
      () => serviceSettings({ service: { status: "http://x" } }),
      (e: unknown) =>
        e instanceof ManifestLoadError &&
        e.exitCode === 3 &&
        /`token' is missing from the `service'/.test(e.message),
    );
  });

  it("exits 2 when the file cannot be read", async () => {
    await assert.rejects(
      readManifestFile(join(dir, "nope.cfg")),
      (e: unknown) => e instanceof ManifestLoadError && e.exitCode === 2,
    );
  });

  it("refuses a source that is not http(s) and a malformed checksum", () => {
    const raw = JSON.parse(JSON.stringify(FULL)) as Record<string, Record<string, string>>;
    raw.image!.src = "file:///etc/shadow";
    assert.throws(() => validateManifest(raw), /must be an http or https URL/);
    raw.image!.src = FULL.image.src;
    raw.image!.checksum = "sha256:abc";
    assert.throws(
      () => validateManifest(raw),
      (e: unknown) => e instanceof AgentError && e.code === "manifest_invalid" && /not valid/.test(e.message),
    );
  });
});
