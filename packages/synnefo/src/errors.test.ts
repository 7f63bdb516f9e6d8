import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { faultNameFor, parseFault, SynnefoError } from "./errors.ts";

describe("parseFault", () => {
  it("reads a named fault: code from the key, message and details from the body", () => {
    const body = JSON.stringify({
      overLimit: {
        code: 413,
        message: "Resource Limit Exceeded for your account.",
        details: "Limit for resource 'Virtual Machine' exceeded for your account. Available: 0, Requested: 1",
      },
    });
    const e = parseFault(413, body, "compute", "POST /servers");
    assert.equal(e.status, 413);
    assert.equal(e.code, "overLimit");
    assert.equal(e.message, "Resource Limit Exceeded for your account.");
    assert.match(e.details ?? "", /Available: 0, Requested: 1/);
    assert.equal(e.service, "compute");
    assert.equal(e.request, "POST /servers");
    assert.equal(e.retriable, false);
  });

  it("names a relayed Astakos `fault` from the HTTP status and keeps its raw details", () => {
    const details = JSON.stringify({ unauthorized: { code: 401, message: "Invalid token", details: "" } });
    const e = parseFault(
      401,
      JSON.stringify({ fault: { code: 401, message: "UNAUTHORIZED", details } }),
      "image",
    );
    assert.equal(e.code, "unauthorized");
    assert.equal(e.message, "UNAUTHORIZED");
    assert.equal(e.details, details);
  });

  it("trusts the HTTP status over the body's code", () => {
    const e = parseFault(503, JSON.stringify({ badRequest: { code: 400, message: "x" } }), "compute");
    assert.equal(e.status, 503);
    assert.equal(e.retriable, true);
  });

  it("keeps a non-string details as JSON text", () => {
    const e = parseFault(400, JSON.stringify({ badRequest: { message: "m", details: { a: 1 } } }), "compute");
    assert.equal(e.details, '{"a":1}');
  });

  it("reads a hashmap 409 (a JSON list of missing hashes) as a conflict with the list as message", () => {
    const e = parseFault(409, '["abc","def"]', "object-store", "PUT /acct/c/o");
    assert.equal(e.code, "conflict");
    assert.equal(e.message, '["abc","def"]');
  });

  it("reads HTML error pages as text without tags", () => {
    const e = parseFault(502, "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>", "compute");
    assert.equal(e.code, "internalServerError");
    assert.equal(e.message, "502 Bad Gateway nginx");
    assert.equal(e.retriable, true);
  });

  it("reads plain text and empty bodies", () => {
    assert.equal(parseFault(404, "Not Found", "object-store").message, "Not Found");
    const empty = parseFault(404, "", "object-store");
    assert.equal(empty.code, "itemNotFound");
    assert.equal(empty.message, "HTTP 404");
  });

  it("falls back to text for broken JSON and for a JSON object whose value is not an object", () => {
    assert.equal(parseFault(400, "{not json", "compute").message, "{not json");
    const e = parseFault(400, '{"message": "plain"}', "compute");
    assert.equal(e.code, "badRequest");
    assert.equal(e.message, '{"message": "plain"}');
  });

  it("cuts long text to 500 characters", () => {
    assert.equal(parseFault(500, "x".repeat(2000), "compute").message.length, 500);
  });

  it("uses a fault name with an empty message as HTTP <status>", () => {
    const e = parseFault(
      404,
      JSON.stringify({ itemNotFound: { code: 404, message: "", details: "" } }),
      "image",
    );
    assert.equal(e.code, "itemNotFound");
    assert.equal(e.message, "HTTP 404");
  });
});

describe("faultNameFor", () => {
  it("maps Synnefo's statuses and falls back for unnamed ones", () => {
    assert.equal(faultNameFor(405), "notAllowed");
    assert.equal(faultNameFor(416), "rangeNotSatisfiable");
    assert.equal(faultNameFor(418), "error");
    assert.equal(faultNameFor(599), "internalServerError");
  });
});

describe("SynnefoError", () => {
  it("serialises every field but the cause", () => {
    const e = new SynnefoError({
      status: 0,
      code: "timeout",
      message: "compute did not answer in time",
      service: "compute",
      request: "GET /servers",
      cause: new Error("secret-token-in-cause"),
    });
    assert.deepEqual(e.toJSON(), {
      name: "SynnefoError",
      status: 0,
      code: "timeout",
      message: "compute did not answer in time",
      details: undefined,
      service: "compute",
      request: "GET /servers",
    });
    assert.ok(!JSON.stringify(e).includes("secret-token"));
    assert.ok(e.retriable);
  });
});
