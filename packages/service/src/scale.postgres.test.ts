/** @module scale.postgres.test — two service instances on one PostgreSQL share the job table correctly. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningService } from "./service.ts";
import {
  call,
  devcloudServers,
  type Harness,
  liveServers,
  startHarness,
  USER_A,
  waitFor,
} from "./testing/index.ts";
import { startPostgres, type TestPostgres } from "./testing/postgres.ts";

describe("two instances on one PostgreSQL", () => {
  let pg: TestPostgres;
  let h: Harness;
  let second: RunningService;

  before(async () => {
    pg = await startPostgres();
    h = await startHarness({ databaseUrl: pg.url, service: { jobConcurrency: 4 } });
    second = await h.startService();
  });
  after(async () => {
    await h.close();
    await pg.stop();
  });

  it("creates exactly 100 VMs for 100 concurrent builds and destroys them all", async () => {
    const instances = [h.service, second];
    const n = 100;
    const created = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(`${instances[i % 2]!.url}/icaas/builds`, {
          method: "POST",
          token: USER_A.token,
          body: { build: { name: `scale-${i}`, src: "http://example.org/x.img" } },
        }),
      ),
    );
    const ids = created.map((r) => {
      assert.equal(r.status, 202);
      return r.body.build.id as number;
    });
    assert.equal(new Set(ids).size, n, "distinct build ids");

    await waitFor(
      "a VM for every build",
      async () =>
        ((await call(`${h.cloud.url}/_devcloud/counters`)).body["compute.serversCreated"] ?? 0) >= n,
      60_000,
      100,
    );
    // Every build's create job is finished (none still running that could make a second VM).
    await waitFor(
      "every create job done",
      async () => {
        const list = await call(`${h.api}/builds?details=1`, { token: USER_A.token });
        return list.body.builds.every(
          (b: { status_details: { details: string } }) =>
            b.status_details.details === "started ICaaS agent creation",
        );
      },
      30_000,
      100,
    );
    const servers = await devcloudServers(h.cloud);
    assert.equal(servers.length, n, "exactly one VM per build");
    for (const id of ids)
      assert.equal(servers.filter((s) => s.name.startsWith(`icaas-agent-${id}-`)).length, 1);
    const byInstance = await Promise.all(
      instances.map(async (s) => {
        const text = (await call(`${s.url}/metrics`)).body as string;
        return Number(text.match(/^icaas_vm_created_total (\d+)/m)?.[1] ?? 0);
      }),
    );
    assert.equal(byInstance[0]! + byInstance[1]!, n);
    assert.ok(
      byInstance[0]! > 0 && byInstance[1]! > 0,
      `both instances ran jobs (${byInstance.join(" + ")})`,
    );

    await Promise.all(
      ids.map((id, i) =>
        call(`${instances[(i + 1) % 2]!.url}/icaas/builds/${id}`, {
          method: "PUT",
          token: USER_A.token,
          body: { action: "cancel" },
        }).then((r) => assert.equal(r.status, 204)),
      ),
    );
    await waitFor("every VM destroyed", async () => (await liveServers(h.cloud)).length === 0, 60_000, 100);
    const counters = (await call(`${h.cloud.url}/_devcloud/counters`)).body;
    assert.equal(counters["compute.serversCreated"], n);
    assert.equal(counters["compute.serversDeleted"], n);
  });
});
