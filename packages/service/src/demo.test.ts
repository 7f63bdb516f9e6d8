/** @module demo.test — the demo starts a devcloud and the service, prints what a new user needs, and works. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEMO_TOKEN } from "@icaas/devcloud";
import { agentCommand, startDemo } from "./demo.ts";
import { call, liveServers, waitFor } from "./testing/index.ts";

describe("demo", () => {
  it("prints the UI, the API, the demo token and a curl example that creates a build", async () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-demo-"));
    const printed: string[] = [];
    // With its sample: the printed curl then points at the demo's own loopback server, so the agent that
    // runs for it connects nowhere else (tests reach only loopback).
    const demo = await startDemo({
      dataDir: dir,
      port: 0,
      cloudPort: 0,
      env: {},
      print: (l) => printed.push(l),
    });
    try {
      const text = printed.join("\n");
      assert.ok(text.includes(`web UI:      ${demo.service.url}/`));
      assert.ok(text.includes(`API:         ${demo.service.endpoint}`));
      assert.ok(text.includes(`demo token:  ${DEMO_TOKEN}`));
      assert.ok(
        text.includes(`curl -s -X POST ${demo.service.endpoint}/builds -H 'X-Auth-Token: ${DEMO_TOKEN}'`),
      );
      assert.ok(existsSync(join(dir, "service", "icaas.sqlite")), "SQLite in the data dir");
      const config = await call(`${demo.service.endpoint}/config`);
      assert.equal(config.body.demo, true);
      assert.match(config.body.demoTokenHint, /printed in the terminal/);
      assert.ok(!JSON.stringify(config.body).includes(DEMO_TOKEN), "the token is never served");
      const body = JSON.parse(text.match(/-d '(.+)'$/m)![1]!);
      assert.equal(body.build.src, demo.sampleUrl, "the curl builds the demo's own sample");
      const created = await call(`${demo.service.endpoint}/builds`, {
        method: "POST",
        token: DEMO_TOKEN,
        body,
      });
      assert.equal(created.status, 202);
      await waitFor("the agent VM", async () => (await liveServers(demo.cloud)).length === 1);
      const id = created.body.build.id;
      assert.equal(
        (await call(`${demo.service.endpoint}/builds/${id}`, { method: "DELETE", token: DEMO_TOKEN })).status,
        204,
      );
      await waitFor("no VM left", async () => (await liveServers(demo.cloud)).length === 0);
    } finally {
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("allow-lists its own sample server, and no other loopback source", async () => {
    const dir = mkdtempSync(join(tmpdir(), "icaas-demo-"));
    const demo = await startDemo({ dataDir: dir, port: 0, cloudPort: 0, env: {}, print: () => {} });
    try {
      assert.ok(demo.sampleUrl, "the sample is served");
      const create = (src: string) =>
        call(`${demo.service.endpoint}/builds`, {
          method: "POST",
          token: DEMO_TOKEN,
          body: { build: { name: "sample", src } },
        });
      const other = await create(`http://127.0.0.1:${Number(new URL(demo.sampleUrl).port) + 1}/x.img`);
      assert.equal(other.status, 400);
      assert.equal(other.body.code, "source_refused");
      const created = await create(demo.sampleUrl);
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const id = created.body.build.id;
      await call(`${demo.service.endpoint}/builds/${id}`, { method: "DELETE", token: DEMO_TOKEN });
      await waitFor("no VM left", async () => (await liveServers(demo.cloud)).length === 0);
    } finally {
      await demo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the agent CLI through an absolute tsx loader", () => {
    const command = agentCommand();
    assert.ok(command, "the agent package is present");
    assert.equal(command[0], process.execPath);
    assert.match(command[2]!, /^file:\/\/.*tsx/);
    assert.match(command[3]!, /packages\/agent\/src\/cli\.ts$/);
    assert.deepEqual(command.slice(4), ["--root", "{root}"]);
  });
});
