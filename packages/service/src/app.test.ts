/** @module app.test — the web UI at `/`, and logs that never carry a token or a nonce. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createLogger, redactUrl } from "./logger.ts";
import { actAsAgent, call, type Harness, startHarness, USER_A, vmDeleted, waitFor } from "./testing/index.ts";

/** A request with the path sent as is (fetch would normalise `..` and refuse a bad `%`). */
function rawRequest(
  base: string,
  path: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const rawGet = (base: string, path: string) => rawRequest(base, path);

/** Bytes the HTTP parser refuses, sent on a bare socket; resolves with the whole answer. */
function rawSocket(base: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname, () => socket.end(bytes));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      answer += c;
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("the service application", () => {
  let h: Harness;
  let web: string;
  const lines: string[] = [];

  before(async () => {
    web = mkdtempSync(join(tmpdir(), "icaas-web-"));
    mkdirSync(join(web, "assets"));
    writeFileSync(join(web, "index.html"), "<!doctype html><title>ICaaS</title>");
    writeFileSync(join(web, "assets", "index-BqE3KUmm.js"), "console.log('ui')");
    writeFileSync(join(web, "favicon.svg"), "<svg/>");
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    h = await startHarness({
      service: { webDir: web, demo: true, demoTokenHint: "printed by the demo" },
      logger: createLogger("debug", sink),
    });
  });
  after(async () => {
    await h.close();
    rmSync(web, { recursive: true, force: true });
  });

  /** Creates a build as user A and plays its agent as far as fetching the manifest. */
  async function buildWithAgent(name: string) {
    const created = await call(`${h.api}/builds`, {
      method: "POST",
      token: USER_A.token,
      body: { build: { name, src: "http://x/y" } },
    });
    const id = created.body.build.id as number;
    const agent = await actAsAgent(h.cloud, id, h.api);
    return { id, agent, nonce: agent.manifestUrl.split("/").pop()! };
  }

  it("serves the UI with an SPA fallback and immutable hashed assets", async () => {
    const root = await fetch(`${h.service.url}/`);
    assert.equal(root.status, 200);
    assert.match(root.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(root.headers.get("cache-control"), "no-cache");
    assert.match(await root.text(), /ICaaS/);
    const route = await fetch(`${h.service.url}/builds/42`);
    assert.equal(route.status, 200, "client-side routes get index.html");
    assert.match(await route.text(), /<title>ICaaS/);
    const asset = await fetch(`${h.service.url}/assets/index-BqE3KUmm.js`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(asset.headers.get("content-type") ?? "", /javascript/);
    const etag = asset.headers.get("etag")!;
    const again = await fetch(`${h.service.url}/assets/index-BqE3KUmm.js`, {
      headers: { "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${h.service.url}/favicon.svg`)).headers.get("cache-control"), "no-cache");
    assert.equal((await fetch(`${h.service.url}/assets/missing-AAAAAAAA.js`)).status, 404);
    for (const path of [
      "/assets/../../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..%2f..%2f..%2fetc%2fpasswd",
    ]) {
      const raw = await rawGet(h.service.url, path);
      assert.ok(!raw.body.includes("root:"), `no file outside the UI for ${path}`);
      assert.ok(raw.status === 404 || raw.body.includes("<title>ICaaS"), `${path}: ${raw.status}`);
    }
    // Paths the filesystem refuses (not a directory, name too long, NUL) are no server error.
    for (const path of ["/favicon.svg/x", `/${"a".repeat(300)}`, "/a%00b", "/a%00b.js"]) {
      const raw = await rawGet(h.service.url, path);
      assert.ok(raw.status === 404 || raw.body.includes("<title>ICaaS"), `${path}: ${raw.status}`);
    }
    const api = await call(`${h.api}/unknown`);
    assert.equal(api.status, 404);
    assert.equal(api.body.code, "not_found", "API paths never get the UI");
    assert.deepEqual((await call(`${h.api}/config`)).body, {
      authUrl: h.cloud.authUrl,
      demo: true,
      demoTokenHint: "printed by the demo",
    });
  });

  it("answers every framework error (bad URL, bad body, unknown route, wrong method, bad HTTP) as {message, status, code}", async () => {
    const shape = (raw: { status: number; body: string }, what: string) => {
      const body = JSON.parse(raw.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ["code", "message", "status"], `${what}: ${raw.body}`);
      assert.equal(body.status, raw.status, what);
      return body;
    };
    for (const path of [
      "/%",
      "/%E0%A4%A",
      "/icaas/builds/%E0%A4%A",
      "/icaas/builds/agent/1/%",
      "/%E0%A4%A/x?y=1",
    ]) {
      const raw = await rawGet(h.service.url, path);
      assert.equal(raw.status, 400, path);
      assert.equal(shape(raw, path).code, "bad_url", path);
    }
    const authed = { "x-auth-token": USER_A.token };
    const cases: [string, string, Record<string, string>, string | undefined, number, string][] = [
      [
        "POST",
        "/icaas/builds",
        { ...authed, "content-type": "application/json" },
        "{not json",
        400,
        "invalid_json",
      ],
      [
        "POST",
        "/icaas/builds",
        { ...authed, "content-type": "application/json" },
        "x".repeat(2 << 20),
        413,
        "body_too_large",
      ],
      ["POST", "/icaas/nowhere", authed, undefined, 404, "not_found"],
      ["GET", "/icaas/nowhere", {}, undefined, 404, "not_found"],
      ["PATCH", "/icaas/builds", authed, undefined, 405, "method_not_allowed"],
      ["PATCH", "/icaas/builds/1", {}, undefined, 405, "method_not_allowed"],
      ["POST", "/icaas/builds/agent/1", {}, undefined, 405, "method_not_allowed"],
      ["DELETE", "/metrics", {}, undefined, 405, "method_not_allowed"],
      ["POST", "/", {}, undefined, 404, "not_found"],
    ];
    // A wrong method names the methods the path has (RFC 9110 §15.5.6); an unknown path names none.
    const allow: Record<string, string> = {
      "/icaas/builds": "GET, HEAD, POST",
      "/icaas/builds/1": "DELETE, GET, HEAD, PUT",
      "/icaas/builds/agent/1": "PUT",
      "/metrics": "GET, HEAD",
    };
    for (const [method, path, headers, body, status, code] of cases) {
      const raw = await rawRequest(h.service.url, path, { method, headers, body });
      assert.equal(raw.status, status, `${method} ${path}`);
      assert.equal(shape(raw, `${method} ${path}`).code, code, `${method} ${path}`);
      assert.equal(raw.headers.allow, status === 405 ? allow[path] : undefined, `${method} ${path}`);
    }
    const garbled = await rawSocket(h.service.url, "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
    assert.match(garbled, /^HTTP\/1\.1 400 /);
    const body = garbled.slice(garbled.indexOf("\r\n\r\n") + 4);
    assert.deepEqual(JSON.parse(body), {
      message: "The request is not valid HTTP",
      status: 400,
      code: "bad_request",
    });
  });

  it("answers a request that arrives while the service stops with 503 in the same shape", async () => {
    const extra = await h.startService({ dataDir: mkdtempSync(join(tmpdir(), "icaas-closing-")) });
    const url = new URL(extra.url);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, "connect");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      answer += c;
    });
    const ended = once(socket, "close");
    // A request whose body is still to come keeps the connection busy while the service closes; the
    // one pipelined behind it arrives after the close began. "100 Continue" says the first was read.
    socket.write(
      `POST /icaas/builds HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${USER_A.token}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n`,
    );
    await waitFor("the first request to be read", async () => answer.includes("100 Continue"), 10_000, 10);
    const closed = extra.close();
    await waitFor(
      "the service to stop listening",
      () =>
        fetch(`${extra.url}/icaas/health`).then(
          () => false,
          () => true,
        ),
      10_000,
      10,
    );
    socket.end("{}GET /icaas/health HTTP/1.1\r\nHost: x\r\n\r\n");
    await ended;
    await closed;
    const bodies = answer
      .split(/HTTP\/1\.1 /)
      .filter((r) => r !== "" && !r.startsWith("100 "))
      .map((r) => ({ status: Number(r.slice(0, 3)), body: r.slice(r.indexOf("\r\n\r\n") + 4) }));
    const refused = bodies.find((b) => b.status === 503);
    assert.ok(refused, `a 503 for the late request: ${answer}`);
    assert.deepEqual(JSON.parse(refused.body), {
      message: "Service unavailable, retry later",
      status: 503,
      code: "service_unavailable",
    });
  });

  it("keeps user tokens, nonces and agent tokens out of the database in the clear", async () => {
    const { id, agent, nonce } = await buildWithAgent("at rest");
    const files = readdirSync(join(h.dataDir, "service")).filter((f) => f.startsWith("icaas.sqlite"));
    assert.ok(files.length > 0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(h.dataDir, "service", f))));
    for (const secret of [USER_A.token, nonce, agent.manifest.service.token])
      assert.equal(bytes.indexOf(secret), -1, `found in the database: ${secret.slice(0, 6)}…`);
    assert.ok(bytes.indexOf("at rest") >= 0, "the database files were read");
    await agent.report({ status: "ERROR" });
    await vmDeleted(h.cloud, id, h.api);
  });

  it("logs requests and jobs without tokens, nonces or agent tokens", async () => {
    const { id, agent, nonce } = await buildWithAgent("logged");
    await agent.report({ status: "COMPLETED" });
    await vmDeleted(h.cloud, id, h.api);
    await call(`${h.api}/builds`, { token: "some-wrong-token-value" });
    // Secrets put in the query string by mistake (or by a hostile client) are logged redacted.
    const inQuery: Record<string, string> = {
      "X-Auth-Token": "query-secret-auth-token",
      token: "query-secret-token",
      nonce: "query-secret-nonce",
      password: "query-secret-password",
      api_key: "query-secret-api-key",
      client_secret: "query-secret-client",
      "X-Amz-Signature": "query-secret-signature",
      access_token: "query-secret-access",
    };
    const query = Object.entries(inQuery)
      .map(([k, v]) => `${encodeURIComponent(k)}=${v}`)
      .join("&");
    const queried = await call(`${h.api}/builds?${query}&status=ERROR`);
    assert.equal(queried.status, 401);
    await call(`${h.api}/builds?X%2DAuth%2DToken=query-secret-encoded-name&PASSWORD=query-secret-upper`);
    const text = lines.join("\n");
    assert.ok(
      lines.some((l) => l.includes('"msg":"request"')),
      "requests are logged",
    );
    assert.ok(
      lines.some((l) => l.includes("agent VM created")),
      "jobs are logged",
    );
    assert.ok(text.includes("/builds/agent/"), "the manifest fetch is logged");
    for (const secret of [USER_A.token, nonce, agent.manifest.service.token, "some-wrong-token-value"])
      assert.ok(!text.includes(secret), `a secret leaked into the log: ${secret.slice(0, 6)}…`);
    assert.ok(!text.includes("query-secret"), "a secret in the query string leaked into the log");
    assert.ok(
      text.includes("X-Auth-Token=[REDACTED]&token=[REDACTED]") && text.includes("&status=ERROR"),
      "the query is logged with names kept and only secret values hidden",
    );
    assert.equal(redactUrl(`/icaas/builds/agent/3/${nonce}?x=1`), "/icaas/builds/agent/3/[REDACTED]?x=1");
    // A doubled slash still reaches the log line (the route does not match, the nonce is still there).
    assert.equal(redactUrl(`/icaas/builds/agent//3/${nonce}`), "/icaas/builds/agent//3/[REDACTED]");
    assert.equal(redactUrl(`/icaas/builds//agent/3//${nonce}`), "/icaas/builds//agent/3//[REDACTED]");
    assert.equal(
      redactUrl(`/icaas/builds/agent/3/${nonce}?token=t&limit=5&signature=s#key=k`),
      "/icaas/builds/agent/3/[REDACTED]?token=[REDACTED]&limit=5&signature=[REDACTED]#key=[REDACTED]",
    );
    assert.equal(redactUrl("/icaas/builds?marker=7&details=1"), "/icaas/builds?marker=7&details=1");
  });
});
