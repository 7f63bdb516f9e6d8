/**
 * @module steps/download-policy.test — the source policy at connect time. Every connection here goes to
 * loopback; names are answered by an injected resolver, never by DNS.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { DEFAULT_SOURCE_POLICY, parseSourcePolicy, type SourcePolicy } from "@icaas/source-policy";
import { AgentError } from "../errors.ts";
import { type SourceServer, startSourceServer } from "../testing/source-server.ts";
import { download } from "./download.ts";
import type { Resolver } from "./source-guard.ts";

describe("download under the source policy", () => {
  let dir: string;
  let src: SourceServer;
  let srcPort: number;
  let data: Buffer;
  /** A server that must never be reached: it counts every TCP connection it accepts. */
  let bystander: Server;
  let bystanderPort: number;
  let connections = 0;
  let asked: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-dl-policy-"));
    src = await startSourceServer();
    srcPort = Number(new URL(src.url).port);
    data = randomBytes(200_000);
    await writeFile(join(dir, "disk.img"), data);
    src.serve("/disk.img", { path: join(dir, "disk.img") });
    bystander = createServer((_req, res) => res.end("should not be here"));
    bystander.on("connection", () => connections++);
    await new Promise<void>((r) => bystander.listen(0, "127.0.0.1", r));
    bystanderPort = (bystander.address() as AddressInfo).port;
  });
  after(async () => {
    bystander.closeAllConnections();
    await new Promise((r) => bystander.close(r));
    await src.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    connections = 0;
    asked = [];
  });

  /** Answers from a table, recording each question; an unknown name is an error, never a real query. */
  const resolver =
    (table: Record<string, string>): Resolver =>
    async (hostname) => {
      asked.push(hostname);
      const address = table[hostname];
      if (!address) throw Object.assign(new Error(`no test answer for ${hostname}`), { code: "ENOTFOUND" });
      return [{ address, family: address.includes(":") ? 6 : 4 }];
    };

  const get = async (url: string, policy: SourcePolicy, resolve?: Resolver) =>
    download({
      url,
      destDir: await mkdtemp(join(dir, "out-")),
      maxBytes: 1 << 30,
      policy,
      resolve,
      backoffMs: 10,
    });

  const refused = (kind: string) => (e: unknown) =>
    e instanceof AgentError &&
    e.code === "source_refused" &&
    e.step === "download" &&
    new RegExp(`is a ${kind} address`).test(e.message);

  it("refuses a loopback address literal by default, in any spelling, without connecting", async () => {
    for (const host of ["127.0.0.1", "2130706433", "0x7f.0.0.1", "[::ffff:127.0.0.1]"]) {
      await assert.rejects(
        get(`http://${host}:${bystanderPort}/x.img`, DEFAULT_SOURCE_POLICY),
        refused("loopback"),
        host,
      );
    }
    assert.equal(connections, 0);
  });

  it("judges a name by what it resolves to: localhost → loopback is refused without connecting", async () => {
    await assert.rejects(
      get(
        `http://localhost:${bystanderPort}/x.img`,
        DEFAULT_SOURCE_POLICY,
        resolver({ localhost: "127.0.0.1" }),
      ),
      refused("loopback"),
    );
    assert.deepEqual(asked, ["localhost"]);
    assert.equal(connections, 0);
  });

  it("refuses a name that resolves to the metadata service, in IPv4 or IPv4-mapped IPv6, before any connection", async () => {
    for (const address of ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"]) {
      await assert.rejects(
        get("http://meta.test/latest/meta-data/", DEFAULT_SOURCE_POLICY, resolver({ "meta.test": address })),
        refused("metadata"),
        address,
      );
    }
    assert.deepEqual(asked, ["meta.test", "meta.test", "meta.test"]);
  });

  it("downloads from an allow-listed server through a name that resolves to it", async () => {
    const policy = parseSourcePolicy({ allow: [`127.0.0.1:${srcPort}`] });
    const r = await get(
      `http://mirror.test:${srcPort}/disk.img`,
      policy,
      resolver({ "mirror.test": "127.0.0.1" }),
    );
    assert.equal(r.bytes, data.length);
    assert.deepEqual(asked, ["mirror.test"]);
  });

  it("judges every redirect hop: an allow-listed server cannot send the agent elsewhere on loopback", async () => {
    const policy = parseSourcePolicy({ allow: [`127.0.0.1:${srcPort}`] });
    for (const target of [
      `http://127.0.0.1:${bystanderPort}/x.img`,
      `http://2130706433:${bystanderPort}/x.img`,
      `http://[::ffff:7f00:1]:${bystanderPort}/x.img`,
    ]) {
      src.redirect("/hop", target);
      await assert.rejects(get(`${src.url}/hop`, policy), refused("loopback"), target);
    }
    src.redirect("/hop-by-name", `http://sneaky.test:${bystanderPort}/x.img`);
    await assert.rejects(
      get(`${src.url}/hop-by-name`, policy, resolver({ "sneaky.test": "127.0.0.1" })),
      refused("loopback"),
    );
    assert.deepEqual(asked, ["sneaky.test"]);
    assert.equal(connections, 0);
  });
});
