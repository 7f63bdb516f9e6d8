/** @module testing/api-suite/agent-side — the manifest and the agent's status reports. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, manifestUrlOf, USER_A } from "../index.ts";
import { agentOf, api, cancel, create, get, h, SRC, vmDeleted, vmOf } from "./suite.ts";

export function agentSide(): void {
  describe("the agent side", () => {
    it("serves the manifest once, with the original's sections (test_agent_manifest_fetching)", async () => {
      const b = (
        await create({
          name: "manifest",
          src: SRC,
          description: "desc",
          checksum: `sha256:${"ab".repeat(32)}`,
        })
      ).body.build;
      const server = await vmOf(b.id);
      const url = manifestUrlOf(server);
      const first = await call(url);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("cache-control"), "no-store");
      const m = first.body.manifest;
      assert.deepEqual(m.progress, { heuristic: 6.75, interval: 5 });
      assert.deepEqual(m.image, {
        src: SRC,
        name: "manifest",
        container: "images",
        object: `manifest-${b.id}.diskdump`,
        description: "desc",
        checksum: `sha256:${"ab".repeat(32)}`,
      });
      assert.equal(m.service.status, `${api}/builds/agent/${b.id}`);
      assert.match(m.service.token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(m.service.insecure, "False");
      assert.deepEqual(m.synnefo, { url: h.cloud.authUrl, token: USER_A.token });
      assert.deepEqual(m.log, { container: "icaas", object: `manifest-${b.id}.log` });
      assert.deepEqual(m.limits, {
        max_download_bytes: 21474836480,
        build_timeout_seconds: 7200,
        min_bytes_per_second: 32768,
        throughput_window_seconds: 60,
      });
      // The harness allow-lists loopback for its test sources; the service's own endpoint is denied.
      assert.deepEqual(m.source, {
        allow_private: "True",
        allow: "127.0.0.0/8,::1/128",
        deny: new URL(api).host,
      });
      assert.equal((await get(b.id)).body.build.status_details.details, "Agent booted normally");
      const second = await call(url);
      assert.equal(second.status, 403);
      assert.deepEqual(second.body, {
        message: "Manifest retrieval is forbidden",
        status: 403,
        code: "manifest_forbidden",
      });
      const wrong = await call(url.replace(/[^/]+$/, "A".repeat(43)));
      assert.equal(wrong.status, 403);
      assert.equal((await call(`${api}/builds/agent/${b.id}/x`)).body.code, "manifest_forbidden");
      assert.equal((await call(`${api}/builds/agent/xyz/abc`)).status, 403);
      assert.equal((await cancel(b.id)).status, 204);
      await vmDeleted(b.id);
    });

    it("checks reports in the original's order and merges them into the build", async () => {
      const b = (await create({ name: "reports", src: SRC })).body.build;
      const agent = await agentOf(b.id);
      const statusUrl = agent.manifest.service.status;
      const put = (
        body: unknown,
        headers: Record<string, string> = { "x-icaas-token": agent.manifest.service.token },
      ) => call(statusUrl, { method: "PUT", body, headers });
      const none = await put({ status: "CREATING" }, {});
      assert.deepEqual(none.body, {
        message: "Missing ICaaS token",
        status: 401,
        code: "agent_token_missing",
      });
      const wrong = await put({ status: "CREATING" }, { "x-icaas-token": "A".repeat(43) });
      assert.equal(wrong.status, 404);
      assert.equal(wrong.body.message, "Build not found");
      assert.equal(
        (
          await call(`${api}/builds/agent/999999`, {
            method: "PUT",
            body: { status: "CREATING" },
            headers: { "x-icaas-token": "x" },
          })
        ).status,
        404,
      );
      assert.equal(
        (await put(undefined)).body.message,
        "Parameters 'status' and 'status_details' are missing",
      );
      assert.equal((await put({ details: "x" })).body.message, "Parameter: 'status' is missing");
      assert.equal((await put({ status: "RUNNING" })).body.message, "Parameter: 'status' is not valid");
      const cancelAttempt = await put({ status: "CANCELED" });
      assert.equal(cancelAttempt.status, 403);
      assert.equal(cancelAttempt.body.message, "Agent cannot cancel a build");
      for (const bad of [{ current: "x", total: 1 }, { current: 1 }, "12"]) {
        const res = await put({ status: "CREATING", "agent-progress": bad });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.message, "Malformed status details");
      }
      const lines = Array.from(
        { length: 80 },
        (_, i) => `2026-11-25T07:00:${String(i % 60).padStart(2, "0")}Z INFO line ${i}`,
      );
      const downloading = {
        name: "download",
        state: "running",
        bytes_done: 250,
        bytes_total: 1000,
        started: "2026-11-25T07:00:01Z",
        finished: null,
      };
      const ok = await put({
        status: "CREATING",
        details: "Downloading image file...",
        "agent-progress": { current: 250, total: "1000" },
        steps: [
          {
            name: "manifest",
            state: "done",
            bytes_done: null,
            bytes_total: null,
            started: "2026-11-25T07:00:00Z",
            finished: "2026-11-25T07:00:01Z",
          },
          downloading,
        ],
        log_tail: lines,
      });
      assert.equal(ok.status, 204);
      let shown = (await get(b.id)).body.build;
      assert.deepEqual(shown.status_details, {
        details: "Downloading image file...",
        "agent-progress": { current: 250, total: 1000 },
      });
      assert.equal(shown.progress, 25);
      assert.equal(shown.steps.length, 2);
      assert.deepEqual(shown.steps[1], downloading);
      assert.equal(shown.log_tail.length, 50);
      assert.equal(shown.log_tail[49], lines[79]);
      // Empty details keep the last text (as the original did).
      assert.equal(
        (await put({ status: "CREATING", details: "", "agent-progress": { current: 500, total: 1000 } }))
          .status,
        204,
      );
      shown = (await get(b.id)).body.build;
      assert.equal(shown.status_details.details, "Downloading image file...");
      assert.equal(shown.progress, 50);
      const completed = await put({
        status: "COMPLETED",
        details: "agent: image creation finished",
        image_id: "7b0b3a36-0000-4000-8000-000000000001",
        image_location: `pithos://${USER_A.uuid}/images/reports-${b.id}.diskdump`,
      });
      assert.equal(completed.status, 204);
      shown = (await get(b.id)).body.build;
      assert.equal(shown.status, "COMPLETED");
      assert.equal(shown.progress, 100);
      assert.equal(shown.image_id, "7b0b3a36-0000-4000-8000-000000000001");
      assert.equal(shown.status_details.details, "agent: image creation finished");
      await vmDeleted(b.id);
      const late = await put({ status: "CREATING", details: "still here" });
      assert.equal(late.status, 403);
      assert.equal(late.body.message, "Build is not active");
      assert.equal((await put({ status: "ERROR" })).status, 403);
      assert.equal((await get(b.id)).body.build.status, "COMPLETED");
    });

    it("ends in ERROR on an agent's ERROR report, keeps its error, destroys the VM", async () => {
      const b = (await create({ name: "fails", src: SRC })).body.build;
      const agent = await agentOf(b.id);
      const res = await agent.report({
        status: "ERROR",
        details: "agent: Image creation failed",
        error: {
          code: "download_not_found",
          message: "404 from example.org",
          step: "download",
          hint: "Check the URL",
        },
      });
      assert.equal(res.status, 204);
      const shown = (await get(b.id)).body.build;
      assert.equal(shown.status, "ERROR");
      assert.deepEqual(shown.error, {
        code: "download_not_found",
        message: "404 from example.org",
        step: "download",
        hint: "Check the URL",
      });
      await vmDeleted(b.id);
      assert.equal((await agent.report({ status: "COMPLETED" })).status, 403);
    });

    it("a canceled build's agent is told 403 and its VM is destroyed", async () => {
      const b = (await create({ name: "cancel while running", src: SRC })).body.build;
      const agent = await agentOf(b.id);
      assert.equal((await cancel(b.id)).status, 204);
      const res = await agent.report({ status: "CREATING", details: "Unpacking image archive..." });
      assert.equal(res.status, 403);
      assert.equal(res.body.message, "Build is not active");
      await vmDeleted(b.id);
    });
  });
}
