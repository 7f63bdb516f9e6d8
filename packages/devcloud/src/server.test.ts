import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { CycladesClient, SynnefoError } from "@icaas/synnefo";
import { AGENT_IMAGE_ID, DEMO_TOKEN, defaultConfig } from "./config.ts";
import type { FaultSettings } from "./injection.ts";
import type { Devcloud } from "./server.ts";
import { startTempDevcloud } from "./testing.ts";

let cloud: Devcloud;

before(async () => {
  cloud = await startTempDevcloud("devcloud-server-", { config: { ...defaultConfig(), bootSeconds: 0.05 } });
});

after(async () => {
  await cloud.close();
});

beforeEach(async () => {
  await setFaults({});
  await fetch(`${cloud.url}/_devcloud/counters`, { method: "DELETE" });
});

async function setFaults(settings: FaultSettings): Promise<void> {
  const res = await fetch(`${cloud.url}/_devcloud/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(settings),
  });
  assert.equal(res.status, 204);
}

async function counters(): Promise<Record<string, number>> {
  return (await (await fetch(`${cloud.url}/_devcloud/counters`)).json()) as Record<string, number>;
}

const cyclades = (options: { retries?: number; timeoutMs?: number } = {}) =>
  new CycladesClient({
    computeUrl: `${cloud.url}/compute/v2.0`,
    token: DEMO_TOKEN,
    backoffMs: 5,
    ...options,
  });

describe("the devcloud server", () => {
  it("serves every service on one port and answers paths outside them with 404", async () => {
    const res = await fetch(`${cloud.url}/not-a-service/x`);
    assert.equal(res.status, 404);
    assert.equal(
      await res.text(),
      JSON.stringify({ itemNotFound: { code: 404, message: "Not Found", details: "" } }),
    );
    for (const path of ["/identity/v2.0/tokens", "/account/v1.0/resources", "/compute/v2.0/flavors"]) {
      const r = await fetch(cloud.url + path, { method: path.endsWith("tokens") ? "POST" : "GET" });
      assert.notEqual(r.status, 404, path);
      await r.arrayBuffer();
    }
  });

  it("counts requests per service and resets the counters", async () => {
    await cyclades().listFlavors();
    await cyclades().listImages();
    const after = await counters();
    assert.equal(after["requests.compute"], 2);
    await fetch(`${cloud.url}/_devcloud/counters`, { method: "DELETE" });
    assert.deepEqual(await counters(), {});
  });

  it("shows the fault settings it was given", async () => {
    await setFaults({ compute: { latencyMs: 5 }, image: { errorRate: 0.1 } });
    const res = await fetch(`${cloud.url}/_devcloud/faults`);
    assert.deepEqual(await res.json(), { compute: { latencyMs: 5 }, image: { errorRate: 0.1 } });
  });

  it("adds the injected latency to one service only", async () => {
    await setFaults({ compute: { latencyMs: 300 } });
    let t0 = Date.now();
    await cyclades().listFlavors();
    assert.ok(Date.now() - t0 >= 290, "compute is slow");
    t0 = Date.now();
    const res = await fetch(`${cloud.url}/identity/v2.0/tokens`, { method: "POST" });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.ok(Date.now() - t0 < 250, "identity is not");
  });

  it("with a 5xx rate on compute, the client retries a GET but sends a POST once", async () => {
    await setFaults({ compute: { errorRate: 1 } });
    await assert.rejects(cyclades({ retries: 2 }).listServers(), (e) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.status, 503);
      assert.equal(e.code, "serviceUnavailable");
      assert.equal(e.message, "Service Unavailable (injected)");
      return true;
    });
    assert.equal((await counters())["requests.compute"], 3, "one GET and two retries");
    await fetch(`${cloud.url}/_devcloud/counters`, { method: "DELETE" });
    await assert.rejects(
      cyclades({ retries: 2 }).createServer({ name: "x", imageRef: AGENT_IMAGE_ID, flavorRef: 1 }),
      { status: 503 },
    );
    const c = await counters();
    assert.equal(c["requests.compute"], 1, "POST /servers is never resent blindly");
    assert.equal(c["injected.compute"], 1);
    assert.equal(c["compute.serversCreated"], undefined, "no server was made");
  });

  it("answers the injected 503 with a Synnefo fault body", async () => {
    await setFaults({ compute: { errorRate: 1 } });
    const res = await fetch(`${cloud.url}/compute/v2.0/servers`, { headers: { "x-auth-token": DEMO_TOKEN } });
    assert.equal(res.status, 503);
    assert.equal(
      await res.text(),
      JSON.stringify({
        serviceUnavailable: { code: 503, message: "Service Unavailable (injected)", details: "" },
      }),
    );
  });

  it("forces a 413 on mutating requests of a service when overLimit is set", async () => {
    await setFaults({ compute: { overLimit: true } });
    await assert.rejects(cyclades().createServer({ name: "x", imageRef: AGENT_IMAGE_ID, flavorRef: 1 }), {
      status: 413,
      code: "overLimit",
      message: "Resource Limit Exceeded for your account.",
    });
    assert.ok((await cyclades().listFlavors()).length > 0, "reads still work");
  });

  it("lets the client time out on a service that answers too slowly", async () => {
    await setFaults({ compute: { latencyMs: 2500 } });
    const t0 = Date.now();
    await assert.rejects(cyclades({ retries: 0, timeoutMs: 200 }).listFlavors(), (e) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.code, "timeout");
      assert.equal(e.status, 0);
      assert.ok(!JSON.stringify(e.toJSON()).includes(DEMO_TOKEN));
      return true;
    });
    // undici checks header timeouts on a coarse (≈1 s) clock, so 200 ms means "about a second".
    assert.ok(Date.now() - t0 < 2400, "gave up before the answer came");
  });

  it("answers 405 on admin routes with the wrong method", async () => {
    const res = await fetch(`${cloud.url}/_devcloud/counters`, { method: "POST" });
    assert.equal(res.status, 405);
    await res.arrayBuffer();
  });
});
