/** @module testing/api-suite/cancel-delete — PUT action=cancel and DELETE, also racing the VM's creation. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, manifestUrlOf, USER_A, waitFor } from "../index.ts";
import { api, cancel, create, get, h, SRC, vmDeleted, vmOf } from "./suite.ts";

export function cancelingAndDeleting(): void {
  describe("canceling and deleting", () => {
    it("cancels (any case of 'cancel'), destroys the VM, and refuses a second cancel (test_cancel_build)", async () => {
      const b = (await create({ name: "to cancel", src: SRC })).body.build;
      await vmOf(b.id);
      const missing = await call(`${api}/builds/${b.id}`, { method: "PUT", token: USER_A.token });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.message, "Parameter: 'action' is missing");
      assert.equal((await cancel(b.id, USER_A.token, {})).body.message, "Parameter: 'action' is missing");
      assert.equal(
        (await cancel(b.id, USER_A.token, { other: 1 })).body.message,
        "Parameter: 'action' is missing",
      );
      const invalid = await cancel(b.id, USER_A.token, { action: "destroy" });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body, { message: "Invalid action", status: 400, code: "invalid_action" });
      const done = await cancel(b.id, USER_A.token, { action: "CANCEL" });
      assert.equal(done.status, 204);
      assert.equal(done.body, undefined);
      const shown = (await get(b.id)).body.build;
      assert.equal(shown.status, "CANCELED");
      assert.equal(shown.status_details.details, "Canceled by the user");
      await vmDeleted(b.id);
      const again = await cancel(b.id);
      assert.equal(again.status, 403);
      assert.equal(again.body.message, "Build is not active");
    });

    it("deletes softly: gone from every endpoint, VM destroyed (test_delete_build)", async () => {
      const b = (await create({ name: "to delete", src: SRC })).body.build;
      const server = await vmOf(b.id);
      const manifestUrl = manifestUrlOf(server);
      const res = await call(`${api}/builds/${b.id}`, { method: "DELETE", token: USER_A.token });
      assert.equal(res.status, 204);
      assert.equal((await get(b.id)).status, 404);
      const list = await call(`${api}/builds?details=1`, { token: USER_A.token });
      assert.ok(!list.body.builds.some((x: { id: number }) => x.id === b.id));
      assert.equal(
        (await call(`${api}/builds/${b.id}`, { method: "DELETE", token: USER_A.token })).status,
        404,
      );
      assert.equal((await call(manifestUrl)).status, 403);
      await vmDeleted(b.id);
      assert.equal(
        (await call(`${api}/builds/424242`, { method: "DELETE", token: USER_A.token })).status,
        404,
      );
    });

    it("destroys the VM when cancel or delete races its creation", async () => {
      await call(`${h.cloud.url}/_devcloud/faults`, {
        method: "PUT",
        body: { compute: { latencyMs: 400 } },
      });
      try {
        await call(`${h.cloud.url}/_devcloud/counters`, { method: "DELETE" });
        const c = (await create({ name: "race cancel", src: SRC })).body.build;
        const d = (await create({ name: "race delete", src: SRC })).body.build;
        await waitFor("the create calls to be in flight", async () => {
          const counters = (await call(`${h.cloud.url}/_devcloud/counters`)).body;
          return (counters["requests.compute"] ?? 0) >= 2;
        });
        assert.equal((await cancel(c.id)).status, 204);
        assert.equal(
          (await call(`${api}/builds/${d.id}`, { method: "DELETE", token: USER_A.token })).status,
          204,
        );
        for (const id of [c.id, d.id]) await vmDeleted(id);
      } finally {
        await call(`${h.cloud.url}/_devcloud/faults`, { method: "PUT", body: {} });
      }
    });
  });
}
