import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { SynnefoError } from "./errors.ts";
import { HttpClient } from "./http.ts";

const TOKEN = "tok-Secret-0123456789abcdefghijklmnopqrs";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
/** What the next requests get: a list of handlers, the last one repeating. */
let script: ((req: IncomingMessage, res: ServerResponse) => void)[] = [];

before(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    const handler = script.length > 1 ? script.shift() : script[0];
    handler?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compute/v2.0`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  script = [];
});

const ok =
  (body = "{}") =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  };
const fail503 = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(503, { "content-type": "application/json" });
  res.end(JSON.stringify({ serviceUnavailable: { code: 503, message: "busy", details: "" } }));
};
const client = (extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({ baseUrl: base, token: TOKEN, service: "compute", backoffMs: 1, retries: 3, ...extra });

function assertNoToken(error: unknown): void {
  assert.ok(error instanceof SynnefoError);
  assert.ok(!error.message.includes(TOKEN), "token in message");
  assert.ok(!JSON.stringify(error.toJSON()).includes(TOKEN), "token in toJSON");
  assert.ok(!String(error.stack).includes(TOKEN), "token in stack");
}

describe("HttpClient", () => {
  it("sends the token only in X-Auth-Token, never in the URL", async () => {
    script = [ok('{"a":1}')];
    const res = await client().json<{ a: number }>({
      method: "GET",
      path: "/servers",
      query: { detail: true },
    });
    assert.deepEqual(res.data, { a: 1 });
    assert.equal(seen[0]?.headers["x-auth-token"], TOKEN);
    assert.ok(!seen[0]?.url.includes(TOKEN));
  });

  it("sends no X-Auth-Token without a token, and JSON bodies with their content type", async () => {
    script = [ok()];
    await new HttpClient({ baseUrl: base, service: "identity" }).call({
      method: "POST",
      path: "/tokens",
      json: { x: 1 },
    });
    assert.equal(seen[0]?.headers["x-auth-token"], undefined);
    assert.equal(seen[0]?.headers["content-type"], "application/json");
    assert.equal(seen[0]?.body, '{"x":1}');
  });

  it("writes Synnefo's bare flags and encodes values in the query", async () => {
    script = [ok()];
    await client().call({
      method: "GET",
      path: "/c/o",
      query: { hashmap: true, format: "json", skip: undefined, no: false, q: "a b&c" },
    });
    assert.equal(seen[0]?.url, "/compute/v2.0/c/o?hashmap&format=json&q=a%20b%26c");
  });

  it("retries an idempotent request after 5xx answers and returns the success", async () => {
    script = [fail503, fail503, ok('{"done":true}')];
    const res = await client().json<{ done: boolean }>({ method: "GET", path: "/servers" });
    assert.equal(res.data.done, true);
    assert.equal(seen.length, 3);
  });

  it("gives up after `retries` and throws the last fault", async () => {
    script = [fail503];
    await assert.rejects(client({ retries: 2 }).call({ method: "DELETE", path: "/servers/1" }), (e) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.status, 503);
      assert.equal(e.code, "serviceUnavailable");
      assert.equal(e.message, "busy");
      assert.equal(e.request, "DELETE /servers/1");
      return true;
    });
    assert.equal(seen.length, 3);
  });

  it("never retries a POST unless told it is idempotent", async () => {
    script = [fail503];
    await assert.rejects(client().call({ method: "POST", path: "/servers", json: {} }), { status: 503 });
    assert.equal(seen.length, 1);
    seen = [];
    script = [fail503, ok()];
    await client().call({ method: "POST", path: "/tokens", idempotent: true });
    assert.equal(seen.length, 2);
  });

  it("does not retry a 4xx", async () => {
    script = [
      (_req, res) => {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ itemNotFound: { code: 404, message: "Server not found.", details: "" } }));
      },
    ];
    await assert.rejects(client().call({ method: "GET", path: "/servers/9" }), { code: "itemNotFound" });
    assert.equal(seen.length, 1);
  });

  it("accepts the statuses given in `expect` and refuses the others", async () => {
    script = [
      (_req, res) => {
        res.writeHead(304);
        res.end();
      },
    ];
    const res = await client().call({ method: "GET", path: "/servers", expect: [200, 304] });
    assert.equal(res.status, 304);
    script = [ok()];
    await assert.rejects(client().call({ method: "DELETE", path: "/servers/1", expect: [204] }), {
      status: 200,
    });
  });

  it("times out a silent server with code `timeout` and status 0, retrying it as a GET", async () => {
    script = [
      () => {
        // Never answers.
      },
    ];
    const started = Date.now();
    await assert.rejects(
      client({ timeoutMs: 150, retries: 1 }).call({ method: "GET", path: "/servers" }),
      (e) => {
        assert.ok(e instanceof SynnefoError);
        assert.equal(e.status, 0);
        assert.equal(e.code, "timeout");
        assert.ok(e.retriable);
        assertNoToken(e);
        return true;
      },
    );
    assert.equal(seen.length, 2);
    assert.ok(Date.now() - started < 3000);
  });

  it("reports a refused connection as `connectionError` without the token", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const http = new HttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      token: TOKEN,
      service: "image",
      retries: 1,
      backoffMs: 1,
    });
    await assert.rejects(http.call({ method: "HEAD", path: "/images/x" }), (e) => {
      assert.ok(e instanceof SynnefoError);
      assert.equal(e.code, "connectionError");
      assert.equal(e.status, 0);
      assertNoToken(e);
      return true;
    });
  });

  it("keeps the token out of the error of a refused token", async () => {
    script = [
      (_req, res) => {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ unauthorized: { code: 401, message: "Invalid token", details: "" } }));
      },
    ];
    await assert.rejects(client().call({ method: "GET", path: "/servers" }), (e) => {
      assertNoToken(e);
      assert.equal((e as SynnefoError).status, 401);
      return true;
    });
  });

  it("turns a body that is not JSON into `invalidResponse` in json()", async () => {
    script = [ok("<html>oops</html>")];
    await assert.rejects(client().json({ method: "GET", path: "/servers" }), {
      code: "invalidResponse",
      status: 200,
    });
  });

  it("withBaseUrl keeps the token and service", async () => {
    script = [ok()];
    const other = client().withBaseUrl(`${base}/other/`);
    await other.call({ method: "GET", path: "x" });
    assert.equal(seen[0]?.url, "/compute/v2.0/other/x");
    assert.equal(seen[0]?.headers["x-auth-token"], TOKEN);
  });
});
