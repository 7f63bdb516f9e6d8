/** @module testing/api-suite/authentication — the token check and Astakos outages. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, USER_A } from "../index.ts";
import { api, h, isolated } from "./suite.ts";

export function authentication(): void {
  describe("authentication", () => {
    it("asks for a token, refuses a bad one, accepts a good one (test_authorized / test_unauthorized)", async () => {
      const none = await call(`${api}/builds`);
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { message: "Token is missing", status: 401, code: "token_missing" });
      const bad = await call(`${api}/builds`, { token: "not-a-token" });
      assert.equal(bad.status, 401);
      assert.deepEqual(bad.body, { message: "Invalid token", status: 401, code: "invalid_token" });
      const good = await call(`${api}/builds`, { token: USER_A.token });
      assert.equal(good.status, 200);
      assert.ok(Array.isArray(good.body.builds));
    });

    it("answers 503 auth_unavailable, never 500, when Astakos fails or cannot be reached", async () => {
      h.service.ctx.auth.clear();
      await call(`${h.cloud.url}/_devcloud/faults`, {
        method: "PUT",
        body: { identity: { errorRate: 1 } },
      });
      try {
        const down = await call(`${api}/builds`, { token: USER_A.token });
        assert.equal(down.status, 503);
        assert.equal(down.body.code, "auth_unavailable");
      } finally {
        await call(`${h.cloud.url}/_devcloud/faults`, { method: "PUT", body: {} });
      }
      const nowhere = await isolated({ authUrl: "http://127.0.0.1:9/identity/v2.0", jobsEnabled: false });
      const refused = await call(`${nowhere.url}/icaas/builds`, { token: USER_A.token });
      assert.equal(refused.status, 503);
      assert.deepEqual(Object.keys(refused.body).sort(), ["code", "message", "status"]);
      assert.equal(refused.body.code, "auth_unavailable");
    });
  });
}
