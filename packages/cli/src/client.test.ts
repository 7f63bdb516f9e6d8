/** Tests of the API client against a real service: error mapping, network failures, redirects, lost answers. */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server as TcpServer,
} from "node:net";
import { after, before, describe, it } from "node:test";
import { IcaasClient } from "./client.ts";
import { ApiError, CliError, describeError, EXIT, NetworkError } from "./errors.ts";
import { type Stack, startStack } from "./testing/stack.ts";

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return (server.address() as AddressInfo).port;
}

async function failure(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error;
  }
  assert.fail("no error");
}

/**
 * A TCP proxy to the service that, while `dropAnswers` > 0, lets a request through but closes the
 * client's connection instead of passing the answer on: the service did the work, the client never
 * learned it.
 */
async function lossyProxy(target: number): Promise<{ port: number; dropAnswers: number; server: TcpServer }> {
  const state = { port: 0, dropAnswers: 0, server: undefined as unknown as TcpServer };
  state.server = createTcpServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    client.pipe(upstream);
    upstream.on("data", (chunk) => {
      if (state.dropAnswers > 0) {
        state.dropAnswers--;
        client.destroy();
        upstream.destroy();
      } else client.write(chunk);
    });
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  state.port = await listen(state.server);
  return state;
}

describe("IcaasClient against a real service", () => {
  let stack: Stack;
  let client: IcaasClient;
  const created: number[] = [];

  before(async () => {
    stack = await startStack();
    client = new IcaasClient({ api: `${stack.url}/icaas`, token: stack.token });
  });
  after(async () => {
    for (const id of created) await client.deleteBuild(id).catch(() => {});
    await stack?.close();
  });

  it("maps a refused token to exit 3 and never puts the token in the error", async () => {
    const secret = "wrong-token-8f3a9c2e11d04b7a";
    const bad = new IcaasClient({ api: `${stack.url}/icaas`, token: secret });
    const e = await failure(bad.listBuilds());
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 401);
    assert.equal(e.exitCode, EXIT.auth);
    const text = describeError(e);
    assert.match(text, /^error: Invalid token \(invalid_token\)\nhint: check the token/);
    assert.ok(!text.includes(secret) && !e.stack?.includes(secret));
  });

  it("maps a missing build to exit 4 and a refused field to exit 2", async () => {
    const missing = await failure(client.getBuild(987654));
    assert.equal(describeError(missing), "error: Build not found (build_not_found)");
    assert.equal(missing.exitCode, EXIT.notFound);
    const bad = await failure(client.createBuild({ name: "x", src: "ftp://example.org/d.img" }));
    assert.equal(bad.exitCode, EXIT.usage);
    assert.match(describeError(bad), /Invalid value for parameter 'build.src'.*\(invalid_parameter\)/);
  });

  it("names the URL it could not reach, and why", async () => {
    const closed = createTcpServer();
    const port = await listen(closed);
    await new Promise<void>((ok) => closed.close(() => ok()));
    const offline = new IcaasClient({ api: `http://127.0.0.1:${port}/icaas`, token: stack.token });
    const e = await failure(offline.getBuild(1));
    assert.ok(e instanceof NetworkError);
    assert.equal(
      describeError(e),
      `error: could not reach http://127.0.0.1:${port}/icaas/builds/1: connection refused (ECONNREFUSED)`,
    );
    assert.ok(!describeError(e).includes(stack.token));
  });

  it("says when the answer does not come in time", async () => {
    const silent = createServer(() => {});
    const port = await listen(silent);
    try {
      const slow = new IcaasClient({ api: `http://127.0.0.1:${port}/icaas`, token: "t", timeoutMs: 300 });
      const e = await failure(slow.listBuilds());
      assert.match(
        e.message,
        /^could not reach http:\/\/127\.0\.0\.1:\d+\/icaas\/builds\?details=1: no answer within 0.3 s$/,
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("explains an answer that is not from ICaaS (a web page, a 404 elsewhere)", async () => {
    const web = createServer((_req, res) =>
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>nope</h1>"),
    );
    const port = await listen(web);
    try {
      const other = new IcaasClient({ api: `http://127.0.0.1:${port}/icaas`, token: "t" });
      const e = await failure(other.getBuild(3));
      assert.equal(e.exitCode, EXIT.failure, "not a build that is missing");
      assert.match(
        describeError(e),
        /answered HTTP 404 Not Found \(http_404\)\nhint: is --url the ICaaS service\?/,
      );
    } finally {
      web.close();
    }
  });

  it("does not follow a redirect, so the token never reaches another server", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const target = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end('{"builds": []}');
    });
    const targetPort = await listen(target);
    const redirector = createServer((req, res) =>
      res.writeHead(301, { location: `http://127.0.0.1:${targetPort}${req.url}` }).end(),
    );
    const port = await listen(redirector);
    try {
      const moved = new IcaasClient({ api: `http://127.0.0.1:${port}/icaas`, token: stack.token });
      const e = await failure(moved.listBuilds());
      assert.match(e.message, new RegExp(`redirects to http://127\\.0\\.0\\.1:${targetPort}/icaas/builds`));
      assert.equal(seen.length, 0);
    } finally {
      redirector.close();
      target.close();
    }
  });

  it("retries a create whose answer was lost with the same Idempotency-Key: one build", async () => {
    const proxy = await lossyProxy(Number(new URL(stack.url).port));
    try {
      const lossy = new IcaasClient({ api: `http://127.0.0.1:${proxy.port}/icaas`, token: stack.token });
      const name = `lost-answer-${Date.now()}`;
      proxy.dropAnswers = 1;
      const result = await lossy.createBuild({ name, src: "http://127.0.0.1:9/x.img" }, { retryDelayMs: 50 });
      assert.equal(proxy.dropAnswers, 0, "the first answer was dropped");
      created.push(result.build.id);
      assert.equal(result.replayed, true, "the second attempt was answered from the first");
      const mine = (await client.listBuilds()).filter((b) => b.name === name);
      assert.deepEqual(
        mine.map((b) => b.id),
        [result.build.id],
      );
    } finally {
      proxy.server.close();
    }
  });

  it("does not sleep through a long Retry-After: a rate-limited create fails at once (exit 1)", async () => {
    const limited = await stack.harness.startService({ createRateLimitPerMinute: 1 });
    const api = new IcaasClient({ api: `${limited.url}/icaas`, token: stack.token });
    const first = await api.createBuild({ name: "rate 1", src: "http://127.0.0.1:9/r.img" });
    created.push(first.build.id);
    const started = Date.now();
    const e = await failure(api.createBuild({ name: "rate 2", src: "http://127.0.0.1:9/r.img" }));
    assert.ok(Date.now() - started < 2000, `failed after ${Date.now() - started} ms`);
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 429);
    assert.ok((e.retryAfter ?? 0) > 10, `Retry-After ${e.retryAfter}`);
    assert.equal(describeError(e), "error: Too many requests, retry later (rate_limited)");
    assert.equal(e.exitCode, EXIT.failure);
  });

  it("sends a new Idempotency-Key per create unless one is given", async () => {
    const src = "http://127.0.0.1:9/y.img";
    const a = await client.createBuild({ name: "twice", src });
    const b = await client.createBuild({ name: "twice", src });
    created.push(a.build.id, b.build.id);
    assert.notEqual(a.idempotencyKey, b.idempotencyKey);
    assert.notEqual(a.build.id, b.build.id);
    const c = await client.createBuild({ name: "twice", src }, { idempotencyKey: a.idempotencyKey });
    assert.equal(c.build.id, a.build.id);
    assert.equal(c.replayed, true);
  });
});
