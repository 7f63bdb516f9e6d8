/** @module testing/api-suite/list — GET /builds and /builds/{id}: order, filters, pages, other users' builds. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { call, USER_A, USER_B, waitFor } from "../index.ts";
import { agentOf, api, cancel, create, get, h, SRC, vmDeleted } from "./suite.ts";

export function listing(): void {
  describe("listing and showing builds", () => {
    it("lists own builds newest first, with details, status filter (CANCELED too) and pages", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await create({ name: `list-${i}`, src: SRC }, USER_A.token)).body.build.id);
      assert.equal((await cancel(ids[1]!, USER_A.token)).status, 204);
      const all = await call(`${api}/builds`, { token: USER_A.token });
      assert.equal(all.status, 200);
      const mine = all.body.builds.filter((b: { id: number }) => ids.includes(b.id));
      assert.deepEqual(
        mine.map((b: { id: number }) => b.id),
        [...ids].reverse(),
      );
      assert.deepEqual(Object.keys(mine[0]).sort(), ["id", "links", "name", "status"]);
      assert.equal(mine[0].links[0].href, `${api}/builds/${ids[4]}`);
      const detailed = await call(`${api}/builds?details=1`, { token: USER_A.token });
      assert.equal(detailed.body.builds[0].status_details.details !== undefined, true);
      assert.equal(detailed.body.builds[0].src, SRC);
      const canceled = await call(`${api}/builds?status=canceled`, { token: USER_A.token });
      assert.equal(canceled.status, 200);
      assert.ok(canceled.body.builds.some((b: { id: number }) => b.id === ids[1]));
      assert.ok(canceled.body.builds.every((b: { status: string }) => b.status === "CANCELED"));
      const page1 = await call(`${api}/builds?limit=2`, { token: USER_A.token });
      assert.deepEqual(
        page1.body.builds.map((b: { id: number }) => b.id),
        [ids[4], ids[3]],
      );
      const page2 = await call(`${api}/builds?limit=2&marker=${ids[3]}`, { token: USER_A.token });
      assert.deepEqual(
        page2.body.builds.map((b: { id: number }) => b.id),
        [ids[2], ids[1]],
      );
      const other = await call(`${api}/builds`, { token: USER_B.token });
      assert.ok(
        !other.body.builds.some((b: { id: number }) => ids.includes(b.id)),
        "B does not see A's builds",
      );
      for (const id of ids) await cancel(id, USER_A.token);
    });

    it("list pages show every change at once, also one made through another instance", async () => {
      const other = await h.startService({ jobsEnabled: false });
      const page = async () =>
        (await call(`${api}/builds?details=1&limit=5`, { token: USER_A.token })).body.builds as {
          id: number;
          progress: number;
          status: string;
          log_tail?: unknown;
        }[];
      const b = (await create({ name: "cached page", src: SRC })).body.build;
      const agent = await agentOf(b.id);
      // The VM may fetch its manifest before the create job has recorded it (its last write); wait for
      // that write, so "unchanged" below compares two pages with no change between them.
      await waitFor(
        "the agent VM recorded",
        async () => (await h.service.ctx.store.builds.find(b.id))?.vm_state === "alive",
        10_000,
        20,
      );
      const before = await page();
      assert.equal(before[0]!.id, b.id);
      assert.equal(before[0]!.log_tail, undefined, "lists leave the log tail out");
      assert.deepEqual((await get(b.id)).body.build.log_tail, [], "a single build has it");
      assert.deepEqual(await page(), before, "unchanged: same page");
      const report = await call(`${other.url}/icaas/builds/agent/${b.id}`, {
        method: "PUT",
        body: { status: "CREATING", "agent-progress": { current: 3, total: 4 } },
        headers: { "x-icaas-token": agent.manifest.service.token },
      });
      assert.equal(report.status, 204);
      assert.equal((await page())[0]!.progress, 75, "a report through the other instance shows");
      assert.equal(
        (
          await call(`${other.url}/icaas/builds/${b.id}`, {
            method: "PUT",
            token: USER_A.token,
            body: { action: "cancel" },
          })
        ).status,
        204,
      );
      assert.equal((await page())[0]!.status, "CANCELED");
      assert.equal(
        (await call(`${other.url}/icaas/builds/${b.id}`, { method: "DELETE", token: USER_A.token })).status,
        204,
      );
      assert.ok(!(await page()).some((x) => x.id === b.id), "a delete shows");
      await vmDeleted(b.id);
      await other.close();
    });

    it("rejects bad filters with the original's messages", async () => {
      const status = await call(`${api}/builds?status=DONE`, { token: USER_A.token });
      assert.equal(status.status, 400);
      assert.equal(
        status.body.message,
        "Invalid value for parameter 'status'. Valid values are: 'CREATING', 'ERROR', 'COMPLETED', 'CANCELED'",
      );
      const details = await call(`${api}/builds?details=yes`, { token: USER_A.token });
      assert.equal(details.status, 400);
      assert.equal(
        details.body.message,
        "Invalid value for parameter 'details'. Valid values are: '0' and '1'",
      );
      for (const q of ["limit=0", "limit=abc", "limit=1001"]) {
        const res = await call(`${api}/builds?${q}`, { token: USER_A.token });
        assert.equal(res.status, 400, q);
        assert.equal(res.body.code, "invalid_limit", q);
      }
      assert.equal(
        (await call(`${api}/builds?marker=x`, { token: USER_A.token })).body.code,
        "invalid_marker",
      );
    });

    it("hides others' builds: user B gets 404 on A's build and cannot cancel or delete it", async () => {
      const a = (await create({ name: "private", src: SRC })).body.build;
      const seen = await get(a.id, USER_B.token);
      assert.equal(seen.status, 404);
      assert.deepEqual(seen.body, { message: "Build not found", status: 404, code: "build_not_found" });
      assert.equal((await cancel(a.id, USER_B.token)).status, 404);
      assert.equal(
        (await call(`${api}/builds/${a.id}`, { method: "DELETE", token: USER_B.token })).status,
        404,
      );
      const still = await get(a.id);
      assert.equal(still.status, 200);
      assert.equal(still.body.build.status, "CREATING");
      assert.equal((await get(999_999)).status, 404);
      assert.equal((await call(`${api}/builds/abc`, { token: USER_A.token })).status, 404);
      assert.equal((await call(`${api}/builds/99999999999999`, { token: USER_A.token })).status, 404);
      assert.equal(
        (await call(`${api}/builds/99999999999999`, { method: "DELETE", token: USER_A.token })).status,
        404,
      );
      assert.equal((await cancel(99_999_999_999, USER_A.token)).status, 404);
      assert.equal((await call(`${api}/builds/agent/99999999999/x`)).status, 403);
      assert.equal((await cancel(a.id)).status, 204);
      await vmDeleted(a.id);
    });
  });
}
