/** @module faults.test — the service under cloud faults and crashes: one VM per build, none leaked. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AGENT_IMAGE_ID, type Devcloud, startDevcloud } from "@icaas/devcloud";
import {
  actAsAgent,
  call,
  devcloudServers,
  type Harness,
  liveServers,
  manifestUrlOf,
  setFaults,
  startHarness,
  testCloudConfig,
  USER_A,
  vmDeleted,
  waitFor,
} from "./testing/index.ts";

const SRC = "http://example.org/image.qcow2";
const REPO = new URL("../../../", import.meta.url).pathname;

describe("30% of Cyclades calls fail with 5xx", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ service: { jobMaxAttempts: 30, jobBackoffMs: 20, jobMaxBackoffMs: 200 } });
  });
  after(async () => h.close());

  it("still gives every build exactly one VM, and destroys every VM", async () => {
    await call(`${h.cloud.url}/_devcloud/counters`, { method: "DELETE" });
    await setFaults(h.cloud, { compute: { errorRate: 0.3 } });
    const n = 20;
    const builds = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(`${h.api}/builds`, {
          method: "POST",
          token: USER_A.token,
          body: { build: { name: `fault-${i}`, src: SRC } },
        }),
      ),
    );
    const ids = builds.map((b) => {
      assert.equal(b.status, 202);
      return b.body.build.id as number;
    });
    await waitFor(
      "every build's VM",
      async () => {
        const list = await call(`${h.api}/builds?details=1`, { token: USER_A.token });
        return list.body.builds.every(
          (b: { status_details: { details: string } }) =>
            b.status_details.details === "started ICaaS agent creation",
        );
      },
      60_000,
    );
    const servers = await devcloudServers(h.cloud);
    for (const id of ids) {
      const mine = servers.filter((s) => s.name.startsWith(`icaas-agent-${id}-`));
      assert.equal(mine.length, 1, `build ${id} has ${mine.length} VMs`);
    }
    const injected = (await call(`${h.cloud.url}/_devcloud/counters`)).body["injected.compute"] ?? 0;
    assert.ok(injected > 0, "faults were injected");
    for (const id of ids) {
      const res = await call(`${h.api}/builds/${id}`, {
        method: "PUT",
        token: USER_A.token,
        body: { action: "cancel" },
      });
      assert.equal(res.status, 204);
    }
    await waitFor(
      "every VM deleted under faults",
      async () => (await liveServers(h.cloud)).length === 0,
      60_000,
    );
    await setFaults(h.cloud, {});
    const counters = (await call(`${h.cloud.url}/_devcloud/counters`)).body;
    assert.equal(counters["compute.serversCreated"], n);
    assert.equal(counters["compute.serversDeleted"], n);
    const metrics = (await call(`${h.service.url}/metrics`)).body as string;
    assert.match(metrics, /icaas_job_retries_total\{kind="create_agent"\} [1-9]/);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("the service is SIGKILLed between accepting a build and creating its VM", () => {
  let cloud: Devcloud;
  let dir: string;
  let port: number;
  let child: ChildProcess | undefined;

  const startChild = async (env: Record<string, string>) => {
    const proc = spawn(process.execPath, ["--import", "tsx", "packages/service/src/cli.ts", "start"], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? "",
        ICAAS_AUTH_URL: cloud.authUrl,
        ICAAS_AGENT_IMAGE_ID: AGENT_IMAGE_ID,
        ICAAS_AGENT_FLAVOR_ID: "1",
        ICAAS_DATA_DIR: dir,
        ICAAS_PORT: String(port),
        ICAAS_LOG_LEVEL: "warn",
        ICAAS_JOB_POLL_MS: "50",
        ICAAS_JOB_BACKOFF_MS: "50",
        ICAAS_JOB_LEASE_MS: "1500",
        ICAAS_SWEEPER_INTERVAL_MS: "200",
        ...env,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    child = proc;
    await waitFor(
      "the service to answer",
      async () => (await call(`http://127.0.0.1:${port}/icaas/health`)).status === 200,
      30_000,
      100,
    );
    return proc;
  };
  const kill = async (proc: ChildProcess) => {
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "icaas-kill-"));
    cloud = await startDevcloud({ dataDir: join(dir, "devcloud"), config: testCloudConfig() });
    port = await freePort();
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await kill(child);
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the VM after a restart (the job survived in the database)", async () => {
    const api = `http://127.0.0.1:${port}/icaas`;
    const first = await startChild({ ICAAS_JOBS_ENABLED: "false" });
    const res = await call(`${api}/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name: "survivor", src: SRC } },
    });
    assert.equal(res.status, 202);
    await kill(first);
    assert.equal((await devcloudServers(cloud)).length, 0, "no VM before the restart");
    const second = await startChild({});
    const agent = await actAsAgent(cloud, res.body.build.id, api);
    assert.equal((await agent.report({ status: "COMPLETED", details: "done" })).status, 204);
    await vmDeleted(cloud, res.body.build.id, api);
    const answer = await call(`${api}/builds/${res.body.build.id}`, { token: USER_A.token });
    assert.equal(answer.body.build.status, "COMPLETED");
    const exited = new Promise((resolve) => second.once("exit", resolve));
    second.kill("SIGTERM");
    assert.equal(await exited, 0, "SIGTERM stops it gracefully");
  });

  it("makes exactly one VM when killed while the create call is in flight", async () => {
    const api = `http://127.0.0.1:${port}/icaas`;
    await call(`${cloud.url}/_devcloud/counters`, { method: "DELETE" });
    await setFaults(cloud, { compute: { latencyMs: 1500 } });
    const first = await startChild({});
    const res = await call(`${api}/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name: "in flight", src: SRC } },
    });
    assert.equal(res.status, 202);
    const id = res.body.build.id as number;
    await waitFor(
      "the create call",
      async () => ((await call(`${cloud.url}/_devcloud/counters`)).body["requests.compute"] ?? 0) >= 1,
    );
    await kill(first);
    // Let the devcloud finish (or drop) the orphaned call before the restart looks.
    await new Promise((r) => setTimeout(r, 1700));
    await setFaults(cloud, {});
    const second = await startChild({});
    const agent = await actAsAgent(cloud, id, api);
    assert.equal((await agent.report({ status: "COMPLETED" })).status, 204);
    await waitFor("no live VM", async () => (await liveServers(cloud)).length === 0);
    const mine = (await devcloudServers(cloud)).filter(
      (s) => s.name.startsWith(`icaas-agent-${id}-`) && manifestUrlOf(s).startsWith(api),
    );
    assert.equal(mine.length, 1, "exactly one VM was ever made for the build");
    await kill(second);
  });
});
