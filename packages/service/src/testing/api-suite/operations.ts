/** @module testing/api-suite/operations — health, UI settings, OpenAPI and metrics. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, USER_A } from "../index.ts";
import { api, h } from "./suite.ts";

export function operations(): void {
  describe("operations", () => {
    it("serves health, UI settings, the OpenAPI spec and metrics", async () => {
      const health = await call(`${api}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "ok");
      assert.equal(health.body.checks.database, "ok");
      const config = await call(`${api}/config`);
      assert.deepEqual(config.body, { authUrl: h.cloud.authUrl, demo: false });
      const spec = await call(`${api}/openapi.json`);
      assert.equal(spec.status, 200);
      assert.equal(spec.body.openapi, "3.0.3");
      for (const path of [
        "/icaas/builds",
        "/icaas/builds/{id}",
        "/icaas/builds/agent/{id}/{nonce}",
        "/icaas/builds/agent/{id}",
      ])
        assert.ok(spec.body.paths[path], path);
      assert.deepEqual(
        spec.body.paths["/icaas/builds"].post.requestBody.content["application/json"].schema.properties.build
          .required,
        ["name", "src"],
      );
      assert.ok(spec.body.components.schemas.Build);
      const metrics = await call(`${h.service.url}/metrics`);
      assert.equal(metrics.status, 200);
      for (const name of [
        'icaas_builds{status="CANCELED"}',
        "icaas_http_request_duration_seconds_bucket",
        "icaas_job_retries_total",
        "icaas_vm_create_failures_total",
        "icaas_vm_destroy_failures_total",
      ])
        assert.ok(metrics.body.includes(name), name);
      assert.ok(!metrics.body.includes(USER_A.token));
      const unknown = await call(`${api}/nothing-here`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, "not_found");
    });
  });
}
