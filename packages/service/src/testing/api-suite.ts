/** @module testing/api-suite — the API acceptance tests, run once per database dialect. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningService } from "../service.ts";
import {
  actAsAgent,
  call,
  devcloudServers,
  findServer,
  type Harness,
  liveServers,
  manifestUrlOf,
  serverOfBuild,
  startHarness,
  USER_A,
  USER_B,
  waitFor,
  vmDeleted as waitVmDeleted,
} from "./harness.ts";

export interface SuiteOptions {
  /** A fresh, empty database for each call (undefined: SQLite in the instance's data dir). */
  newDatabase(): Promise<string | undefined>;
  /** Stops the database server, if any, after the suite. */
  teardown?(): Promise<void>;
}

const SRC = "http://example.org/bitnami-wordpress.zip";

/** Defines every API test against a fresh devcloud + service on the given database. */
export function defineApiSuite(dialect: string, options: SuiteOptions): void {
  describe(`ICaaS API on ${dialect}`, () => {
    let h: Harness;
    let api: string;
    const create = (build: Record<string, unknown>, token = USER_A.token, headers?: Record<string, string>) =>
      call(`${api}/builds`, { method: "POST", token, body: { build }, headers });
    const get = (id: number, token = USER_A.token) => call(`${api}/builds/${id}`, { token });
    const cancel = (id: number, token = USER_A.token, body: unknown = { action: "cancel" }) =>
      call(`${api}/builds/${id}`, { method: "PUT", token, body });
    const vmDeleted = (id: number, endpoint = api) => waitVmDeleted(h.cloud, id, endpoint);
    const vmOf = (id: number, endpoint = api) => serverOfBuild(h.cloud, id, endpoint);
    const agentOf = (id: number, endpoint = api) => actAsAgent(h.cloud, id, endpoint);
    const isolated = async (overrides: Record<string, unknown>): Promise<RunningService> =>
      h.startService({
        databaseUrl: await options.newDatabase(),
        dataDir: mkdtempSync(join(h.dataDir, "extra-")),
        ...overrides,
      });

    before(async () => {
      h = await startHarness({ databaseUrl: await options.newDatabase() });
      api = h.api;
    });

    after(async () => {
      try {
        // No test may leave a VM behind.
        await waitFor(
          "every VM to be deleted",
          async () => (await liveServers(h.cloud)).length === 0,
          15_000,
        );
      } finally {
        await h.close();
        await options.teardown?.();
      }
    });

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

    describe("creating builds", () => {
      it("needs only name and src, fills defaults, answers 202 with the superset fields", async () => {
        const res = await create({ name: "WordPress 6", src: SRC });
        assert.equal(res.status, 202);
        const b = res.body.build;
        assert.equal(typeof b.id, "number");
        assert.equal(b.name, "WordPress 6");
        assert.equal(b.src, SRC);
        assert.equal(b.description, "");
        assert.equal(b.public, false);
        assert.equal(b.status, "CREATING");
        assert.deepEqual(b.status_details, { details: "Build request accepted" });
        assert.deepEqual(b.image, { container: "images", object: `wordpress-6-${b.id}.diskdump` });
        assert.deepEqual(b.log, { container: "icaas", object: `wordpress-6-${b.id}.log` });
        assert.deepEqual(b.links, [{ href: `${api}/builds/${b.id}`, rel: "self" }]);
        assert.match(b.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal(b.progress, 0);
        assert.deepEqual(b.steps, []);
        assert.equal(b.error, null);
        assert.equal(b.image_id, null);
        assert.deepEqual(b.log_tail, []);
        for (const secret of [
          "token",
          "nonce",
          "agent",
          "vm_id",
          "user_token_sealed",
          "nonce_hash",
          "deleted",
        ])
          assert.equal(b[secret], undefined, secret);
        await waitFor(
          "the agent VM",
          async () => (await get(b.id)).body.build.status_details.details === "started ICaaS agent creation",
        );
        assert.equal((await cancel(b.id)).status, 204);
        await vmDeleted(b.id);
      });

      it("refuses an image or log account other than the user's own with 400 account_not_yours, storing nothing", async () => {
        const before = (await call(`${api}/builds`, { token: USER_A.token })).body.builds.length;
        for (const field of ["image", "log"] as const) {
          const res = await create({ name: "x", src: SRC, [field]: { account: USER_B.uuid } });
          assert.equal(res.status, 400, field);
          assert.equal(res.body.code, "account_not_yours");
          assert.equal(
            res.body.message,
            `Invalid value for parameter 'build.${field}.account': must be your own account (${USER_A.uuid}) or left out`,
          );
        }
        assert.equal((await call(`${api}/builds`, { token: USER_A.token })).body.builds.length, before);
      });

      it("creates the agent VM with the user's token, the manifest URL and the marker (test_create_image)", async () => {
        const res = await create({
          name: "Ελληνικό όνομα ☃",
          src: "http://example.org",
          description: "unicode round trip",
          public: true,
          image: { container: "pithos", object: "my/image.diskdump", account: USER_A.uuid },
          log: { container: "pithos", object: "my/image.log", account: USER_A.uuid },
        });
        assert.equal(res.status, 202);
        const b = res.body.build;
        assert.equal(b.name, "Ελληνικό όνομα ☃");
        assert.deepEqual(b.image, { container: "pithos", object: "my/image.diskdump", account: USER_A.uuid });
        assert.deepEqual(b.log, { container: "pithos", object: "my/image.log", account: USER_A.uuid });
        assert.equal(b.public, true);
        const server = await vmOf(b.id);
        assert.match(server.name, new RegExp(`^icaas-agent-${b.id}-\\d{20}$`));
        assert.equal(server.userId, USER_A.uuid);
        const cfgPath = join(server.rootDir, "etc", "icaas", "manifest.cfg");
        const cfg = readFileSync(cfgPath, "utf8");
        assert.match(
          cfg,
          new RegExp(
            `^\\[manifest\\]\\nurl = ${api.replace(/[.]/g, "\\.")}/builds/agent/${b.id}/[A-Za-z0-9_-]{43}\\n$`,
          ),
        );
        assert.equal(statSync(cfgPath).mode & 0o777, 0o600);
        assert.equal(readFileSync(join(server.rootDir, ".icaas"), "utf8"), "empty");
        const cyclades = await call(`${h.cloud.url}/compute/v2.0/servers/${server.id}`, {
          token: USER_A.token,
        });
        assert.equal(cyclades.body.server.metadata.icaas_build, String(b.id));
        assert.equal((await cancel(b.id)).status, 204);
        await vmDeleted(b.id);
      });

      it("gives the original's 400 messages for bad bodies, in its order", async () => {
        const cases: [unknown, string][] = [
          [undefined, 'Required field "build" is missing'],
          [{}, 'Required field "build" is missing'],
          [{ build: {} }, 'Required fields: "name", "src" are missing from namespace "build"'],
          [{ build: { name: "x" } }, "Parameter: 'src' is missing from namespace 'build' or empty"],
          [{ build: { name: "", src: SRC } }, "Parameter: 'name' is missing from namespace 'build' or empty"],
          [{ build: { name: "x", src: SRC, image: "images/x" } }, '"image" parameter is not a dictionary'],
          [{ build: { name: "x", src: SRC, log: [1] } }, '"log" parameter is not a dictionary'],
          [
            { build: { name: "x", src: SRC, image: { container: "" } } },
            '"container" field missing from parameter: "image"',
          ],
          [
            { build: { name: "x", src: SRC, log: { object: "" } } },
            '"object" field missing from parameter: "log"',
          ],
        ];
        for (const [body, message] of cases) {
          const res = await call(`${api}/builds`, { method: "POST", token: USER_A.token, body });
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.equal(res.body.message, message, JSON.stringify(body));
          assert.equal(res.body.status, 400);
          assert.equal(typeof res.body.code, "string");
        }
        const ftp = await create({ name: "x", src: "ftp://example.org/x.img" });
        assert.equal(ftp.status, 400);
        assert.equal(ftp.body.code, "invalid_parameter");
        assert.equal(
          ftp.body.message,
          "Invalid value for parameter 'build.src': must be an http:// or https:// URL",
        );
        const sum = await create({ name: "x", src: SRC, checksum: "sha256" });
        assert.match(sum.body.message, /^Invalid value for parameter 'build\.checksum': must be <md5/);
        for (const object of ["../escape", "a/./b", "a/..", "/abs"]) {
          const bad = await create({ name: "x", src: SRC, image: { container: "images", object } });
          assert.equal(bad.status, 400, object);
          assert.equal(
            bad.body.message,
            "Invalid value for parameter 'build.image.object': must not start with / nor have . or .. as a path segment",
          );
        }
        // A digest too short for its algorithm would only fail later, in a VM the user pays for.
        const short = await create({ name: "x", src: SRC, checksum: "sha256:abcd" });
        assert.equal(short.status, 400);
        assert.equal(short.body.code, "invalid_parameter");
        const typed = await create({ name: "x", src: SRC, public: "maybe" });
        assert.equal(typed.status, 400);
        assert.equal(typed.body.message, "Invalid value for parameter 'build.public': must be boolean");
        const json = await call(`${api}/builds`, {
          method: "POST",
          token: USER_A.token,
          raw: "{not json",
          headers: { "content-type": "application/json" },
        });
        assert.equal(json.status, 400);
        assert.equal(json.body.code, "invalid_json");
        const list = await call(`${api}/builds`, { token: USER_A.token });
        assert.ok(!list.body.builds.some((b: { name: string }) => b.name === "x"), "nothing was stored");
      });

      it("refuses control characters in any text field with 400 invalid_characters (PostgreSQL cannot store NUL)", async () => {
        const cases: [Record<string, unknown>, string, string][] = [
          [{ name: "nul\u0000name", src: SRC }, "build.name", "U+0000"],
          [{ name: "x", src: `${SRC}\u0000`, description: "d" }, "build.src", "U+0000"],
          [{ name: "x", src: SRC, description: "a\u0000b" }, "build.description", "U+0000"],
          [{ name: "esc\u001b[31m", src: SRC }, "build.name", "U+001B"],
          [{ name: "two\nlines", src: SRC }, "build.name", "U+000A"],
          [{ name: "x", src: SRC, project: "p\u0085" }, "build.project", "U+0085"],
          [
            { name: "x", src: SRC, image: { container: "images", object: "a\u0000" } },
            "build.image.object",
            "U+0000",
          ],
        ];
        for (const [build, path, codePoint] of cases) {
          const res = await create(build);
          assert.equal(res.status, 400, JSON.stringify(build));
          assert.deepEqual(res.body, {
            message: `Invalid value for parameter '${path}': must not contain control characters (${codePoint})`,
            status: 400,
            code: "invalid_characters",
          });
        }
        const list = await call(`${api}/builds`, { token: USER_A.token });
        assert.equal(list.status, 200);
        assert.ok(
          !list.body.builds.some((b: { name: string }) => /[\u0000-\u001f]|^x$/.test(b.name)),
          "nothing was stored",
        );
      });

      it("refuses a src that is no well-formed http(s) URL with a host, before any VM is made", async () => {
        const cases: [string, RegExp][] = [
          ["http://", /must name a host after \/\/$/],
          ["https://", /must name a host after \/\/$/],
          ["http:///etc/passwd", /must name a host after \/\/$/],
          ["https://a b/c", /must not contain whitespace or control characters$/],
          ["http://example.org:99999/d.img", /is not a valid URL$/],
          [`http://example.org/${"a".repeat(4096)}`, /more than 4096 characters$/],
        ];
        for (const [src, reason] of cases) {
          const res = await create({ name: "bad-src", src });
          assert.equal(res.status, 400, src);
          assert.equal(res.body.code, "invalid_parameter", src);
          assert.match(res.body.message, /^Invalid value for parameter 'build\.src': /);
          assert.match(res.body.message, reason, src);
        }
        const crlf = await create({ name: "bad-src", src: "http://example.org/a\r\nHost: evil" });
        assert.equal(crlf.status, 400);
        assert.equal(crlf.body.code, "invalid_characters");
        const list = await call(`${api}/builds`, { token: USER_A.token });
        assert.ok(
          !list.body.builds.some((b: { name: string }) => b.name === "bad-src"),
          "nothing was stored",
        );
      });

      it("refuses the container names . and .. (the request would go to another path)", async () => {
        for (const where of ["image", "log"])
          for (const container of [".", "..", "a/b"]) {
            const res = await create({ name: "dots", src: SRC, [where]: { container } });
            assert.equal(res.status, 400, `${where} ${container}`);
            assert.deepEqual(res.body, {
              message: `Invalid value for parameter 'build.${where}.container': must not be . or .. nor contain /`,
              status: 400,
              code: "invalid_parameter",
            });
          }
        const list = await call(`${api}/builds`, { token: USER_A.token });
        assert.ok(!list.body.builds.some((b: { name: string }) => b.name === "dots"), "nothing was stored");
      });

      it("reads a JSON body sent with curl's default form Content-Type", async () => {
        const res = await call(`${api}/builds`, {
          method: "POST",
          token: USER_A.token,
          raw: JSON.stringify({ build: { name: "curl", src: SRC } }),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        assert.equal(res.status, 202);
        assert.equal((await cancel(res.body.build.id)).status, 204);
        await vmDeleted(res.body.build.id);
      });

      it("honours Idempotency-Key: a replay returns the same build and makes no second VM", async () => {
        const key = `key-${dialect}-1`;
        const first = await create({ name: "idem", src: SRC }, USER_A.token, { "idempotency-key": key });
        const again = await create({ src: SRC, name: "idem" }, USER_A.token, { "idempotency-key": key });
        assert.equal(first.status, 202);
        assert.equal(again.status, 202);
        assert.equal(again.body.build.id, first.body.build.id);
        assert.equal(again.headers.get("idempotent-replayed"), "true");
        const other = await create({ name: "idem other", src: SRC }, USER_A.token, {
          "idempotency-key": key,
        });
        assert.equal(other.status, 422);
        assert.equal(other.body.code, "idempotency_key_reused");
        // The same key of another user is another request.
        const b = await create({ name: "idem", src: SRC }, USER_B.token, { "idempotency-key": key });
        assert.equal(b.status, 202);
        assert.notEqual(b.body.build.id, first.body.build.id);
        await vmOf(first.body.build.id);
        const vms = (await devcloudServers(h.cloud)).filter(
          (s) => s.name.startsWith(`icaas-agent-${first.body.build.id}-`) && manifestUrlOf(s).startsWith(api),
        );
        assert.equal(vms.length, 1);
        assert.equal((await cancel(first.body.build.id)).status, 204);
        assert.equal((await cancel(b.body.build.id, USER_B.token)).status, 204);
        await vmDeleted(first.body.build.id);
        await vmDeleted(b.body.build.id);
      });
    });

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
            {
              name: "download",
              state: "running",
              bytes_done: 250,
              bytes_total: 1000,
              started: "2026-11-25T07:00:01Z",
              finished: null,
            },
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
        assert.deepEqual(shown.steps[1], {
          name: "download",
          state: "running",
          bytes_done: 250,
          bytes_total: 1000,
          started: "2026-11-25T07:00:01Z",
          finished: null,
        });
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

    describe("timeouts and quotas", () => {
      it("an expired manifest gives 403, ERROR, and the VM destroyed; the sweeper does the same unasked", async () => {
        const s = await isolated({ manifestTimeoutSeconds: 0.5, sweeperIntervalMs: 60_000 });
        const base = `${s.url}/icaas`;
        const byGet = (
          await call(`${base}/builds`, {
            method: "POST",
            token: USER_A.token,
            body: { build: { name: "late", src: SRC } },
          })
        ).body.build;
        const server = await vmOf(byGet.id, base);
        await waitFor("expiry", () => Date.now() > Date.parse(byGet.created) + 600);
        const res = await call(manifestUrlOf(server));
        assert.equal(res.status, 403);
        assert.deepEqual(res.body, {
          message: "Manifest retrieval expired",
          status: 403,
          code: "manifest_expired",
        });
        const shown = (await call(`${base}/builds/${byGet.id}`, { token: USER_A.token })).body.build;
        assert.equal(shown.status, "ERROR");
        assert.equal(shown.status_details.details, "Agent start up expired");
        assert.equal(shown.error.code, "manifest_timeout");
        await vmDeleted(byGet.id, base);
        assert.equal((await call(manifestUrlOf(server))).status, 403);

        const bySweep = (
          await call(`${base}/builds`, {
            method: "POST",
            token: USER_A.token,
            body: { build: { name: "never fetched", src: SRC } },
          })
        ).body.build;
        await vmOf(bySweep.id, base);
        await waitFor("expiry", () => Date.now() > Date.parse(bySweep.created) + 600);
        await s.sweep();
        const swept = (await call(`${base}/builds/${bySweep.id}`, { token: USER_A.token })).body.build;
        assert.equal(swept.status, "ERROR");
        assert.equal(swept.status_details.details, "Agent start up expired");
        await vmDeleted(bySweep.id, base);
        await s.close();
      });

      it("ends a build whose agent went silent or that ran too long", async () => {
        const s = await isolated({ agentSilenceSeconds: 0.3, sweeperIntervalMs: 60_000 });
        const base = `${s.url}/icaas`;
        const b = (
          await call(`${base}/builds`, {
            method: "POST",
            token: USER_A.token,
            body: { build: { name: "silent", src: SRC } },
          })
        ).body.build;
        const agent = await agentOf(b.id, base);
        assert.equal(
          (await agent.report({ status: "CREATING", details: "Downloading image file..." })).status,
          204,
        );
        await new Promise((r) => setTimeout(r, 400));
        await s.sweep();
        const shown = (await call(`${base}/builds/${b.id}`, { token: USER_A.token })).body.build;
        assert.equal(shown.status, "ERROR");
        assert.equal(shown.error.code, "agent_silent");
        await vmDeleted(b.id, base);
        await s.close();

        const t = await isolated({ buildTimeoutSeconds: 0.3, sweeperIntervalMs: 60_000 });
        const late = (
          await call(`${t.url}/icaas/builds`, {
            method: "POST",
            token: USER_A.token,
            body: { build: { name: "slow", src: SRC } },
          })
        ).body.build;
        const lateAgent = await agentOf(late.id, `${t.url}/icaas`);
        await new Promise((r) => setTimeout(r, 400));
        await lateAgent.report({ status: "CREATING" });
        await t.sweep();
        const overdue = (await call(`${t.url}/icaas/builds/${late.id}`, { token: USER_A.token })).body.build;
        assert.equal(overdue.status, "ERROR");
        assert.equal(overdue.error.code, "build_timeout");
        await vmDeleted(late.id, `${t.url}/icaas`);
        assert.ok(lateAgent.server);
        await t.close();
      });

      it("destroys the VM of an ended build whose destroy job was lost (the sweeper re-queues it)", async () => {
        const b = (await create({ name: "lost job", src: SRC })).body.build;
        await vmOf(b.id);
        await waitFor(
          "the VM id stored",
          async () => (await h.service.ctx.store.builds.find(b.id))?.vm_state === "alive",
        );
        // As after restoring an old backup: the build is over, nothing is queued for its VM.
        await h.service.ctx.store.builds.db
          .updateTable("builds")
          .set({ status: "ERROR" })
          .where("id", "=", b.id)
          .execute();
        assert.equal((await h.service.ctx.store.jobs.get(b.id, "destroy_agent"))?.state, undefined);
        await h.service.sweep();
        await vmDeleted(b.id);
      });

      it("turns a Cyclades 413 into ERROR naming the exhausted resource", async () => {
        // User B may run one VM.
        const first = (await create({ name: "quota 1", src: SRC }, USER_B.token)).body.build;
        await vmOf(first.id);
        const second = (await create({ name: "quota 2", src: SRC }, USER_B.token)).body.build;
        const failed = await waitFor("the quota error", async () => {
          const b = (await get(second.id, USER_B.token)).body.build;
          return b.status === "ERROR" ? b : undefined;
        });
        assert.equal(
          failed.status_details.details,
          "ICaaS agent creation failed: (413, Resource Limit Exceeded for your account.)",
        );
        assert.equal(failed.error.code, "quota_exceeded");
        assert.match(failed.error.message, /Virtual Machine/);
        assert.match(failed.error.hint, /Virtual Machine/);
        assert.equal(await findServer(h.cloud, second.id, api), undefined);
        assert.equal((await cancel(first.id, USER_B.token)).status, 204);
        await vmDeleted(first.id);
      });

      it("limits requests per user (429) and active builds per user (403)", async () => {
        const s = await isolated({ maxActiveBuildsPerUser: 1, rateLimitPerMinute: 6, jobsEnabled: false });
        const base = `${s.url}/icaas`;
        const one = await call(`${base}/builds`, {
          method: "POST",
          token: USER_B.token,
          body: { build: { name: "one", src: SRC } },
        });
        assert.equal(one.status, 202);
        const two = await call(`${base}/builds`, {
          method: "POST",
          token: USER_B.token,
          body: { build: { name: "two", src: SRC } },
        });
        assert.equal(two.status, 403);
        assert.equal(two.body.code, "too_many_builds");
        let limited: Awaited<ReturnType<typeof call>> | undefined;
        for (let i = 0; i < 10 && !limited; i++) {
          const res = await call(`${base}/builds`, { token: USER_B.token });
          if (res.status === 429) limited = res;
        }
        assert.ok(limited, "a 429 came");
        assert.equal(limited.body.code, "rate_limited");
        assert.ok(Number(limited.headers.get("retry-after")) >= 1);
        // Another user is not limited by B's use.
        assert.equal((await call(`${base}/builds`, { token: USER_A.token })).status, 200);
        await s.close();
      });
    });

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
          spec.body.paths["/icaas/builds"].post.requestBody.content["application/json"].schema.properties
            .build.required,
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
  });
}
