/** @module jobs/create-agent.test — a VM whose creation answer was lost is adopted, never made twice. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CycladesClient } from "@icaas/synnefo";
import { CycladesCompute } from "../cloud/compute.ts";
import { SEAL } from "../context.ts";
import { call, devcloudServers, type Harness, startHarness, USER_A, waitFor } from "../testing/index.ts";
import { agentServerRequest, vmName, vmTimestamp } from "./agent-vm.ts";
import { createAgent, exhaustedResource } from "./create-agent.ts";
import { destroyAgent } from "./destroy-agent.ts";

describe("agent VM jobs", () => {
  let h: Harness;
  let compute: CycladesCompute;
  const cyclades = () =>
    new CycladesClient({ computeUrl: `${h.cloud.url}/compute/v2.0`, token: USER_A.token });

  before(async () => {
    // The runner is off: the test runs the jobs by hand, after faking a crash. VMs stay in BUILD for a
    // few seconds, during which Cyclades refuses to delete them (409).
    h = await startHarness({ service: { jobsEnabled: false }, cloud: { bootSeconds: 2 } });
    compute = new CycladesCompute({ authUrl: h.cloud.authUrl, timeoutMs: 5000 });
  });
  after(async () => h.close());

  const newBuild = async (name: string) => {
    const res = await call(`${h.api}/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name, src: "http://x/y.img" } },
    });
    assert.equal(res.status, 202);
    return res.body.build.id as number;
  };

  const built = (vm: { id: string }) => cyclades().waitForStatus(vm.id, ["ACTIVE"], { intervalMs: 50 });

  /** What a crash right after Cyclades answered (before the id was stored) leaves behind. */
  const lostAnswer = async (id: number) => {
    const { ctx } = h.service;
    const row = (await ctx.store.builds.find(id))!;
    const name = vmName(id);
    await ctx.store.builds.markVmCreating(id, name);
    const nonce = ctx.box.decrypt(row.nonce_sealed, SEAL.nonce);
    return cyclades().createServer(
      agentServerRequest(row, nonce, name, {
        endpoint: ctx.endpoint,
        imageId: ctx.config.agentImageId,
        flavorId: "1",
      }),
    );
  };

  /** What the create job gets from the runner. */
  const createDeps = () => ({
    ctx: h.service.ctx,
    compute,
    logger: h.service.logger,
    settings: () => ({
      endpoint: h.service.ctx.endpoint,
      imageId: h.service.ctx.config.agentImageId,
      flavorId: "1",
    }),
    maxAttempts: 3,
  });

  it("adopts the VM of a lost create answer instead of making a second", async () => {
    const id = await newBuild("adopt");
    const orphan = await lostAnswer(id);
    const job = (await h.service.ctx.store.jobs.get(id, "create_agent"))!;
    const outcome = await createAgent(job, createDeps());
    assert.deepEqual(outcome, { kind: "done" });
    const row = (await h.service.ctx.store.builds.find(id))!;
    assert.equal(row.vm_id, orphan.id);
    assert.equal(row.vm_state, "alive");
    assert.equal(
      (await devcloudServers(h.cloud)).filter((s) => s.name.startsWith(`icaas-agent-${id}-`)).length,
      1,
    );
    await built(orphan);
    await cyclades().deleteServer(orphan.id);
  });

  it("two overlapping attempts (a lapsed lease) leave one VM, recorded and counted once", async () => {
    const id = await newBuild("overlap");
    const job = (await h.service.ctx.store.jobs.get(id, "create_agent"))!;
    const counted = async () =>
      Number(
        ((await call(`${h.service.url}/metrics`)).body as string).match(
          /^icaas_vm_created_total (\d+)/m,
        )?.[1] ?? 0,
      );
    const before = await counted();
    // Both read the build before either records anything, as two runners holding the same job do.
    const outcomes = await Promise.all([createAgent(job, createDeps()), createAgent(job, createDeps())]);
    assert.deepEqual(outcomes, [{ kind: "done" }, { kind: "done" }]);
    const row = (await h.service.ctx.store.builds.find(id))!;
    const mine = (await devcloudServers(h.cloud)).filter((s) => s.name.startsWith(`icaas-agent-${id}-`));
    assert.deepEqual(
      mine.filter((s) => !s.deleted).map((s) => String(s.id)),
      [row.vm_id],
      "only the recorded VM is left",
    );
    assert.equal(await counted(), before + 1, "counted once");
    await built({ id: row.vm_id as string });
    await cyclades().deleteServer(row.vm_id as string);
  });

  it("retries the delete while Cyclades answers 409 buildInProgress, and deletes once the VM is built", async () => {
    const id = await newBuild("building");
    const vm = await lostAnswer(id);
    assert.equal(
      (await call(`${h.api}/builds/${id}`, { method: "DELETE", token: USER_A.token })).status,
      204,
    );
    const job = (await h.service.ctx.store.jobs.get(id, "destroy_agent"))!;
    const deps = { ctx: h.service.ctx, compute, logger: h.service.logger, waitMs: 10 };
    const first = await destroyAgent(job, deps);
    assert.equal(first.kind, "retry");
    assert.match((first as { error: string }).error, /409 buildInProgress: Server is being build/);
    assert.equal((await cyclades().getServer(vm.id)).status, "BUILD");
    await built(vm);
    assert.deepEqual(await destroyAgent(job, deps), { kind: "done" });
    assert.equal((await cyclades().getServer(vm.id)).status, "DELETED");
    assert.equal((await h.service.ctx.store.builds.find(id))?.vm_state, "gone");
  });

  it("finds and destroys that VM when the build is canceled before the id was stored", async () => {
    const id = await newBuild("orphan");
    const orphan = await lostAnswer(id);
    assert.equal(
      (
        await call(`${h.api}/builds/${id}`, {
          method: "PUT",
          token: USER_A.token,
          body: { action: "cancel" },
        })
      ).status,
      204,
    );
    await built(orphan);
    const job = (await h.service.ctx.store.jobs.get(id, "destroy_agent"))!;
    const outcome = await destroyAgent(job, {
      ctx: h.service.ctx,
      compute,
      logger: h.service.logger,
      waitMs: 10,
    });
    assert.deepEqual(outcome, { kind: "done" });
    assert.equal(
      (await h.service.ctx.store.jobs.get(id, "create_agent"))?.state,
      "done",
      "the pending create was dropped",
    );
    const server = await waitFor("deleted", async () =>
      (await devcloudServers(h.cloud)).find((s) => s.id === Number(orphan.id)),
    );
    assert.equal(server.deleted, true);
    assert.equal((await h.service.ctx.store.builds.find(id))?.vm_state, "gone");
  });

  it("drops the create job of a build canceled before it ran: no VM at all", async () => {
    const id = await newBuild("never");
    assert.equal(
      (await call(`${h.api}/builds/${id}`, { method: "DELETE", token: USER_A.token })).status,
      204,
    );
    const job = (await h.service.ctx.store.jobs.get(id, "destroy_agent"))!;
    assert.deepEqual(
      await destroyAgent(job, { ctx: h.service.ctx, compute, logger: h.service.logger, waitMs: 10 }),
      { kind: "done" },
    );
    const create = (await h.service.ctx.store.jobs.get(id, "create_agent"))!;
    assert.equal(create.state, "done");
    assert.deepEqual(
      await createAgent(
        { ...create, state: "running" },
        {
          ctx: h.service.ctx,
          compute,
          logger: h.service.logger,
          settings: () => ({ endpoint: "", imageId: "", flavorId: "" }),
          maxAttempts: 1,
        },
      ),
      { kind: "done" },
    );
    assert.equal(
      (await devcloudServers(h.cloud)).filter((s) => s.name.startsWith(`icaas-agent-${id}-`)).length,
      0,
    );
  });

  it("names the VM like the original and reads the exhausted resource from a 413", () => {
    assert.equal(vmTimestamp(new Date(Date.UTC(2026, 10, 25, 7, 5, 9, 42))), "20261125070509042000");
    assert.match(vmName(12), /^icaas-agent-12-\d{20}$/);
    assert.equal(
      exhaustedResource(
        "Limit for resource 'Virtual Machine' exceeded for your account. Available: 0, Requested: 1",
      ),
      "Virtual Machine",
    );
    assert.equal(exhaustedResource(undefined), undefined);
  });
});
