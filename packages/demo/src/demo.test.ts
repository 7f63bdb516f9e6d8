/** @module demo.test — the demo starts a devcloud and the service, prints what a new user needs, and works. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEMO_TOKEN } from "@icaas/devcloud";
import { call, liveServers, waitFor } from "@icaas/service/testing";
import { type Demo, startDemo } from "./demo.ts";

interface Run {
  dir: string;
  printed: string[];
  warned: string[];
}

/**
 * Runs `body` against a demo in a fresh data dir (after `prepare` on it) on free ports, with an empty
 * environment and what it prints kept; stops the demo and removes the dir after.
 */
async function withDemo(body: (demo: Demo, run: Run) => Promise<void>, prepare?: (dir: string) => void) {
  const run: Run = { dir: mkdtempSync(join(tmpdir(), "icaas-demo-")), printed: [], warned: [] };
  try {
    prepare?.(run.dir);
    const demo = await startDemo({
      dataDir: run.dir,
      port: 0,
      cloudPort: 0,
      env: {},
      print: (l) => run.printed.push(l),
      warn: (l) => run.warned.push(l),
    });
    try {
      await body(demo, run);
    } finally {
      await demo.close();
    }
  } finally {
    rmSync(run.dir, { recursive: true, force: true });
  }
}

describe("demo", () => {
  // With its sample: the printed curl then points at the demo's own loopback server, so the agent that
  // runs for it connects nowhere else (tests reach only loopback).
  it("prints the UI, the API, the demo token and a curl example that creates a build", () =>
    withDemo(async (demo, { dir, printed }) => {
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
    }));

  it("allow-lists its own sample server, and no other loopback source", () =>
    withDemo(async (demo) => {
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
    }));

  it("says why it has no sample image, and still runs without one", () =>
    withDemo(
      async (demo, { printed, warned }) => {
        assert.equal(demo.sampleUrl, undefined);
        assert.equal(warned.length, 1, warned.join("\n"));
        assert.match(warned[0]!, /^demo: no sample image \(.*EEXIST.*\)/);
        assert.ok(
          printed.some((l) => /^ {2}sample: {6}none \(.*EEXIST/.test(l)),
          printed.join("\n"),
        );
        assert.equal((await call(`${demo.service.endpoint}/health`)).status, 200);
      },
      // A file where the samples directory should be: the sample cannot be built.
      (dir) => writeFileSync(join(dir, "samples"), "not a directory"),
    ));
});
