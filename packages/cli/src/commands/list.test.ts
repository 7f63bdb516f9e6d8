/** Tests of `icaas list` against a real service holding many builds: table, JSON, paging, status filter. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BUILD_STATUSES } from "@icaas/contract";
import { seedBuilds, USER_B } from "@icaas/service/testing";
import { UsageError } from "../errors.ts";
import { captureIo } from "../io.ts";
import { LIST_FIELDS } from "../testing/build-fields.ts";
import { runCli, type Stack, startStack } from "../testing/stack.ts";
import { list } from "./list.ts";

describe("icaas list", () => {
  let stack: Stack;
  let b: { url: string; token: string };

  before(async () => {
    stack = await startStack();
    const { ctx } = stack.harness.service;
    await seedBuilds(ctx.store, { users: { [USER_B.uuid]: 45 }, token: USER_B.token, box: ctx.box });
    b = { url: stack.url, token: USER_B.token };
  });
  after(async () => {
    await stack?.close();
  });

  it("prints the newest 20 as an aligned table, and says older ones exist", async () => {
    const cap = captureIo();
    const builds = await list({ ...b, io: cap.io });
    assert.equal(builds.length, 20);
    const rows = cap.stdout().trimEnd().split("\n");
    assert.equal(rows.length, 21);
    assert.match(rows[0]!, /^ID +STATUS +PROGRESS +CREATED +NAME$/);
    const columns = ["STATUS", "PROGRESS", "CREATED", "NAME"].map((c) => rows[0]!.indexOf(c));
    for (const [i, row] of rows.slice(1).entries()) {
      const build = builds[i]!;
      assert.ok(row.startsWith(`${build.id} `), row);
      assert.equal(row.slice(columns[0]).split(/\s+/)[0], build.status, row);
      assert.match(row.slice(columns[2]), /^\d{4}-\d\d-\d\d \d\d:\d\d {2}/, row);
      assert.equal(row.slice(columns[3]), build.name, row);
    }
    assert.deepEqual(
      builds.map((x) => x.id),
      [...builds.map((x) => x.id)].sort((x, y) => y - x),
      "newest first",
    );
    assert.equal(cap.stderr(), "(the newest 20; older ones with --all or --limit N)\n");
  });

  it("--all follows the pages to every build; --json gives full builds", async () => {
    const cap = captureIo();
    const builds = await list({ ...b, io: cap.io, all: true, limit: 10, json: true });
    assert.equal(builds.length, 45);
    assert.equal(new Set(builds.map((x) => x.id)).size, 45);
    const printed = JSON.parse(cap.stdout()) as Array<Record<string, unknown>>;
    assert.equal(printed.length, 45);
    for (const build of printed) assert.deepEqual(Object.keys(build).sort(), LIST_FIELDS);
    assert.equal(cap.stderr(), "");
  });

  it("--status filters in any case; each status's count adds up to all builds", async () => {
    let total = 0;
    for (const status of BUILD_STATUSES) {
      const builds = await list({ ...b, io: captureIo().io, status: status.toLowerCase(), all: true });
      assert.ok(
        builds.every((x) => x.status === status),
        status,
      );
      total += builds.length;
    }
    assert.equal(total, 45);
    const error = await list({ ...b, io: captureIo().io, status: "done" }).catch((e: unknown) => e);
    assert.ok(error instanceof UsageError);
    assert.match(error.hint ?? "", /one of CREATING, COMPLETED, ERROR, CANCELED/);
  });

  it("says so when there are no builds (another user's are not shown)", async () => {
    const cap = captureIo();
    assert.deepEqual(await list({ ...stack.auth, io: cap.io }), []);
    assert.equal(cap.stdout(), "");
    assert.equal(cap.stderr(), "no builds\n");
    const run = await runCli(
      ["list", "--json", "--status", "error"],
      { ICAAS_URL: stack.url, ICAAS_TOKEN: stack.token },
      [stack.token],
    );
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "[]\n");
  });
});
