/** @module routes/cancel.test — a user's cancel ends the build the way every end does: once, counted once, VM destroyed. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { vmDeleted } from "../testing/devcloud-admin.ts";
import { type Harness, startHarness, USER_A, USER_B } from "../testing/harness.ts";
import { call } from "../testing/http.ts";

/** The value of `icaas_builds_ended_total{status="CANCELED",reason="user"}` (0 when absent). */
async function userCancels(h: Harness): Promise<number> {
  const text = (await call(`${h.service.url}/metrics`)).body as string;
  const line = text
    .split("\n")
    .find((l) => l.startsWith('icaas_builds_ended_total{status="CANCELED",reason="user"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("cancel", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({});
  });
  after(async () => h.close());

  it("ends a build once: 204, counted once, its VM destroyed; again → 403, others → 404, nothing counted", async () => {
    const created = await call(`${h.api}/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name: "to cancel", src: "https://example.org/disk.qcow2" } },
    });
    assert.equal(created.status, 202);
    const id = created.body.build.id as number;
    const before = await userCancels(h);
    const cancel = (token: string) =>
      call(`${h.api}/builds/${id}`, { method: "PUT", token, body: { action: "cancel" } });

    assert.equal((await cancel(USER_B.token)).status, 404);
    assert.equal((await cancel(USER_A.token)).status, 204);
    const again = await cancel(USER_A.token);
    assert.equal(again.status, 403);
    assert.equal(again.body.code, "build_not_active");
    assert.equal(await userCancels(h), before + 1);
    const shown = await call(`${h.api}/builds/${id}`, { token: USER_A.token });
    assert.equal(shown.body.build.status, "CANCELED");
    assert.equal(shown.body.build.status_details.details, "Canceled by the user");
    await vmDeleted(h.cloud, id, h.api);
  });
});
