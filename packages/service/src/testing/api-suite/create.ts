/** @module testing/api-suite/create — POST /builds: defaults, validation, the agent VM, idempotency. */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { call, devcloudServers, manifestUrlOf, USER_A, USER_B, waitFor } from "../index.ts";
import { api, cancel, create, get, h, SRC, vmDeleted, vmOf } from "./suite.ts";

export function creating(dialect: string): void {
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
      for (const secret of ["token", "nonce", "agent", "vm_id", "user_token_sealed", "nonce_hash", "deleted"])
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
      assert.ok(!list.body.builds.some((b: { name: string }) => b.name === "bad-src"), "nothing was stored");
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
}
