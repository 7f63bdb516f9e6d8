/**
 * `agentUrl` and `agentAuthUrl`: the URLs an agent's VM reaches the service and Astakos at (e.g. through
 * a NAT, or QEMU's 10.0.2.2) are the ones written for it, while users keep the public URL.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  actAsAgent,
  call,
  type Harness,
  manifestUrlOf,
  serverOfBuild,
  startHarness,
  USER_A,
} from "./testing/index.ts";

let h: Harness;

before(async () => {
  h = await startHarness({});
});
after(async () => {
  await h.close();
});

describe("addresses written for agents", () => {
  it("writes agentUrl into manifest.cfg and the manifest, and agentAuthUrl as the manifest's Synnefo URL", async () => {
    // `localhost` names the same loopback listener by another URL: what the agent is given is visible.
    const agentAuthUrl = h.cloud.authUrl.replace("127.0.0.1", "localhost");
    const probe = await h.startService({ dataDir: join(h.dataDir, "probe"), jobsEnabled: false });
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const service = await h.startService({
      dataDir: join(h.dataDir, "agent-urls"),
      port,
      agentUrl: `http://localhost:${port}/`,
      agentAuthUrl,
    });
    const created = await call(`${service.url}/icaas/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name: "guest-visible", src: "http://127.0.0.1:9/x.zip" } },
    });
    assert.equal(created.status, 202);
    const id = created.body.build.id as number;
    const agentEndpoint = `http://localhost:${port}/icaas`;
    const server = await serverOfBuild(h.cloud, id, agentEndpoint);
    assert.ok(
      manifestUrlOf(server).startsWith(`${agentEndpoint}/builds/agent/${id}/`),
      manifestUrlOf(server),
    );
    const agent = await actAsAgent(h.cloud, id, agentEndpoint);
    assert.equal(agent.manifest.service.status, `${agentEndpoint}/builds/agent/${id}`);
    assert.equal(agent.manifest.synnefo.url, agentAuthUrl);
    await agent.report({ status: "ERROR" });
  });
});
