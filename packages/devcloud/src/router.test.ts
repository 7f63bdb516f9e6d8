import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Fault } from "./fault.ts";
import { sendFault, sendJson } from "./http-util.ts";
import { Router } from "./router.ts";

let server: Server;
let base: string;

before(async () => {
  const router = new Router("/api/v1/")
    .add("GET", "/things", ({ res }) => sendJson(res, 200, { list: true }))
    .add("POST", "/things", ({ res }) => sendJson(res, 201, { created: true }))
    .add("GET", "/things/:id", ({ res, params }) => sendJson(res, 200, { id: params.id }))
    .add("DELETE", "/things/:id", ({ res }) => sendJson(res, 200, { deleted: true }))
    .add("HEAD", "/heads/:id", ({ res }) => {
      res.writeHead(200, { "x-head": "explicit" });
      res.end();
    })
    .add("GET", "/files/:container/*path", ({ res, params, query }) =>
      sendJson(res, 200, { ...params, q: query.get("q") }),
    );
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (!router.owns(url.pathname)) {
      sendJson(res, 418, { owned: false });
      return;
    }
    router.dispatch(req, res, url).catch((e) => sendFault(res, e as Fault));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function call(method: string, path: string) {
  const res = await fetch(base + path, { method });
  return { status: res.status, text: method === "HEAD" ? "" : await res.text(), headers: res.headers };
}

describe("Router", () => {
  it("routes by method and path, with or without a trailing slash", async () => {
    assert.deepEqual(JSON.parse((await call("GET", "/api/v1/things")).text), { list: true });
    assert.deepEqual(JSON.parse((await call("GET", "/api/v1/things/")).text), { list: true });
    assert.equal((await call("POST", "/api/v1/things")).status, 201);
  });

  it("decodes parameters, and a *rest parameter keeps its slashes", async () => {
    assert.deepEqual(JSON.parse((await call("GET", "/api/v1/things/a%20b")).text), { id: "a b" });
    assert.deepEqual(JSON.parse((await call("GET", "/api/v1/files/c/dir/sub/f%C3%A9.txt?q=1")).text), {
      container: "c",
      path: "dir/sub/fé.txt",
      q: "1",
    });
  });

  it("answers a known path with another method with 405, the Allow header and a notAllowed fault", async () => {
    const res = await call("PUT", "/api/v1/things");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, POST");
    assert.equal(
      res.text,
      JSON.stringify({ notAllowed: { code: 405, message: "Method not allowed", details: "" } }),
    );
  });

  it("answers an unknown path under its prefix with 400 'API endpoint not found'", async () => {
    const res = await call("GET", "/api/v1/nothing/here/at/all");
    assert.equal(res.status, 400);
    assert.equal(
      res.text,
      JSON.stringify({ badRequest: { code: 400, message: "API endpoint not found", details: "" } }),
    );
    assert.equal(res.headers.get("content-type"), "application/json; charset=UTF-8");
  });

  it("answers a broken %-escape with 400 instead of crashing", async () => {
    const res = await call("GET", "/api/v1/things/%E0%A4%A");
    assert.equal(res.status, 400);
    assert.match(res.text, /Malformed request path/);
  });

  it("serves HEAD from an explicit HEAD route, else from the GET route", async () => {
    const explicit = await call("HEAD", "/api/v1/heads/1");
    assert.equal(explicit.headers.get("x-head"), "explicit");
    const implied = await call("HEAD", "/api/v1/things/7");
    assert.equal(implied.status, 200);
  });

  it("owns only its own prefix", async () => {
    assert.equal((await call("GET", "/api/v10/things")).status, 418);
    assert.equal((await call("GET", "/api/v1")).status, 400);
  });
});
