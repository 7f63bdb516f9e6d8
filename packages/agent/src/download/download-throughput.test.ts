/** @module steps/download-throughput.test — a trickling source is dropped, resumed, then failed; small windows keep it fast. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError } from "../errors.ts";
import { LOOPBACK_SOURCE_POLICY, type SourceServer, startSourceServer } from "../testing/source-server.ts";
import { download } from "./download.ts";

/** 20 kB/s over 0.4 s windows: the same rule as the default 32 KiB/s over 60 s, made quick to test. */
const RULE = { minBytesPerSecond: 20_000, windowMs: 400 };

describe("download from a slow source", () => {
  let dir: string;
  let src: SourceServer;
  let data: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-dl-slow-"));
    src = await startSourceServer();
    data = randomBytes(300_000);
    await writeFile(join(dir, "disk.img"), data);
    src.serve("/trickle.img", { path: join(dir, "disk.img"), bytesPerSecond: 2_000 });
    src.serve("/steady.img", { path: join(dir, "disk.img"), bytesPerSecond: 300_000 });
  });
  after(async () => {
    await src.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (url: string, log?: (line: string) => void) =>
    download({
      url,
      destDir: await mkdtemp(join(dir, "out-")),
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      throughput: RULE,
      slowRetries: 2,
      backoffMs: 10,
      log,
    });

  it("drops a trickling connection after a window, resumes where it was, then fails download_too_slow", {
    timeout: 20_000,
  }, async () => {
    const started = Date.now();
    const lines: string[] = [];
    await assert.rejects(
      get(`${src.url}/trickle.img`, (l) => lines.push(l)),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === "download_too_slow" &&
        e.step === "download" &&
        /under the minimum of 20000 bytes\/s \(3 connections in a row\)/.test(e.message),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 6_000, `gave up after ${elapsed} ms`);
    const asks = src.requests.filter((r) => r.path === "/trickle.img");
    assert.equal(asks.length, 3, "the first connection and two resumes");
    assert.equal(asks[0]!.range, undefined);
    for (const ask of asks.slice(1))
      assert.match(ask.range ?? "", /^bytes=[1-9]\d*-$/, "resumed after the bytes it had");
    assert.equal(lines.filter((l) => /reconnecting \(\d of 2\)/.test(l)).length, 2);
  });

  it("keeps a source that is slow but above the minimum", { timeout: 20_000 }, async () => {
    const r = await get(`${src.url}/steady.img`);
    assert.deepEqual(await readFile(r.path), data);
    assert.equal(r.resumes, 0);
  });

  it("drops a server that trickles its headers, too", { timeout: 20_000 }, async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      const text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
      let i = 0;
      const timer = setInterval(
        () => (i < text.length ? socket.write(text[i++]!) : clearInterval(timer)),
        100,
      );
      socket.on("close", () => clearInterval(timer));
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      await assert.rejects(
        get(`http://127.0.0.1:${port}/x.img`),
        (e: unknown) => e instanceof AgentError && e.code === "download_too_slow",
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
