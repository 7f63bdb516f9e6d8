/** @module testing/api-suite/timeouts-quotas — the sweeper's timeouts, lost jobs, Cyclades quotas, per-user limits. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, findServer, manifestUrlOf, USER_A, USER_B, waitFor } from "../index.ts";
import { agentOf, api, cancel, create, createOn, get, h, isolated, SRC, vmDeleted, vmOf } from "./suite.ts";

export function timeoutsAndQuotas(): void {
  describe("timeouts and quotas", () => {
    it("an expired manifest gives 403, ERROR, and the VM destroyed; the sweeper does the same unasked", async () => {
      const s = await isolated({ manifestTimeoutSeconds: 0.5, sweeperIntervalMs: 60_000 });
      const base = `${s.url}/icaas`;
      const byGet = (await createOn(base, { name: "late", src: SRC })).body.build;
      const server = await vmOf(byGet.id, base);
      await waitFor("expiry", () => Date.now() > Date.parse(byGet.created) + 600);
      const res = await call(manifestUrlOf(server));
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, {
        message: "Manifest retrieval expired",
        status: 403,
        code: "manifest_expired",
      });
      const shown = (await call(`${base}/builds/${byGet.id}`, { token: USER_A.token })).body.build;
      assert.equal(shown.status, "ERROR");
      assert.equal(shown.status_details.details, "Agent start up expired");
      assert.equal(shown.error.code, "manifest_timeout");
      await vmDeleted(byGet.id, base);
      assert.equal((await call(manifestUrlOf(server))).status, 403);

      const bySweep = (await createOn(base, { name: "never fetched", src: SRC })).body.build;
      await vmOf(bySweep.id, base);
      await waitFor("expiry", () => Date.now() > Date.parse(bySweep.created) + 600);
      await s.sweep();
      const swept = (await call(`${base}/builds/${bySweep.id}`, { token: USER_A.token })).body.build;
      assert.equal(swept.status, "ERROR");
      assert.equal(swept.status_details.details, "Agent start up expired");
      await vmDeleted(bySweep.id, base);
      await s.close();
    });

    it("ends a build whose agent went silent or that ran too long", async () => {
      const s = await isolated({ agentSilenceSeconds: 0.3, sweeperIntervalMs: 60_000 });
      const base = `${s.url}/icaas`;
      const b = (await createOn(base, { name: "silent", src: SRC })).body.build;
      const agent = await agentOf(b.id, base);
      assert.equal(
        (await agent.report({ status: "CREATING", details: "Downloading image file..." })).status,
        204,
      );
      await new Promise((r) => setTimeout(r, 400));
      await s.sweep();
      const shown = (await call(`${base}/builds/${b.id}`, { token: USER_A.token })).body.build;
      assert.equal(shown.status, "ERROR");
      assert.equal(shown.error.code, "agent_silent");
      await vmDeleted(b.id, base);
      await s.close();

      const t = await isolated({ buildTimeoutSeconds: 0.3, sweeperIntervalMs: 60_000 });
      const late = (await createOn(`${t.url}/icaas`, { name: "slow", src: SRC })).body.build;
      const lateAgent = await agentOf(late.id, `${t.url}/icaas`);
      await new Promise((r) => setTimeout(r, 400));
      await lateAgent.report({ status: "CREATING" });
      await t.sweep();
      const overdue = (await call(`${t.url}/icaas/builds/${late.id}`, { token: USER_A.token })).body.build;
      assert.equal(overdue.status, "ERROR");
      assert.equal(overdue.error.code, "build_timeout");
      await vmDeleted(late.id, `${t.url}/icaas`);
      assert.ok(lateAgent.server);
      await t.close();
    });

    it("destroys the VM of an ended build whose destroy job was lost (the sweeper re-queues it)", async () => {
      const b = (await create({ name: "lost job", src: SRC })).body.build;
      await vmOf(b.id);
      await waitFor(
        "the VM id stored",
        async () => (await h.service.ctx.store.builds.find(b.id))?.vm_state === "alive",
      );
      // As after restoring an old backup: the build is over, nothing is queued for its VM.
      await h.service.ctx.store.builds.db
        .updateTable("builds")
        .set({ status: "ERROR" })
        .where("id", "=", b.id)
        .execute();
      assert.equal((await h.service.ctx.store.jobs.get(b.id, "destroy_agent"))?.state, undefined);
      await h.service.sweep();
      await vmDeleted(b.id);
    });

    it("turns a Cyclades 413 into ERROR naming the exhausted resource", async () => {
      // User B may run one VM.
      const first = (await create({ name: "quota 1", src: SRC }, USER_B.token)).body.build;
      await vmOf(first.id);
      const second = (await create({ name: "quota 2", src: SRC }, USER_B.token)).body.build;
      const failed = await waitFor("the quota error", async () => {
        const b = (await get(second.id, USER_B.token)).body.build;
        return b.status === "ERROR" ? b : undefined;
      });
      assert.equal(
        failed.status_details.details,
        "ICaaS agent creation failed: (413, Resource Limit Exceeded for your account.)",
      );
      assert.equal(failed.error.code, "quota_exceeded");
      assert.match(failed.error.message, /Virtual Machine/);
      assert.match(failed.error.hint, /Virtual Machine/);
      assert.equal(await findServer(h.cloud, second.id, api), undefined);
      assert.equal((await cancel(first.id, USER_B.token)).status, 204);
      await vmDeleted(first.id);
    });

    it("limits requests per user (429) and active builds per user (403)", async () => {
      const s = await isolated({ maxActiveBuildsPerUser: 1, rateLimitPerMinute: 6, jobsEnabled: false });
      const base = `${s.url}/icaas`;
      const one = await createOn(base, { name: "one", src: SRC }, USER_B.token);
      assert.equal(one.status, 202);
      const two = await createOn(base, { name: "two", src: SRC }, USER_B.token);
      assert.equal(two.status, 403);
      assert.equal(two.body.code, "too_many_builds");
      let limited: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 10 && !limited; i++) {
        const res = await call(`${base}/builds`, { token: USER_B.token });
        if (res.status === 429) limited = res;
      }
      assert.ok(limited, "a 429 came");
      assert.equal(limited.body.code, "rate_limited");
      assert.ok(Number(limited.headers.get("retry-after")) >= 1);
      // Another user is not limited by B's use.
      assert.equal((await call(`${base}/builds`, { token: USER_A.token })).status, 200);
      await s.close();
    });
  });
}
