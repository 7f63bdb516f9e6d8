/** @module api.test — error bodies become typed errors pinned to form fields; old build shapes are normalised. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError, type Build, errorFromResponse, fieldOfError, normalizeBuild } from "./api.ts";

const base: Build = {
  id: 7,
  name: "debian",
  src: "http://127.0.0.1/disk.img",
  status: "CREATING",
  created: "2026-01-01T00:00:00Z",
  updated: "2026-01-01T00:00:00Z",
};

describe("errorFromResponse", () => {
  it("keeps the service's message, status and code", async () => {
    const res = new Response(
      JSON.stringify({ message: "Build not found", status: 404, code: "build_not_found" }),
      {
        status: 404,
      },
    );
    const error = await errorFromResponse(res);
    assert.ok(error instanceof ApiError);
    assert.equal(error.message, "Build not found");
    assert.equal(error.status, 404);
    assert.equal(error.code, "build_not_found");
    assert.equal(error.field, null);
  });

  it("gives a readable message when a proxy answers with HTML", async () => {
    const res = new Response("<html><body>Bad Gateway</body></html>", {
      status: 502,
      statusText: "Bad Gateway",
    });
    const error = await errorFromResponse(res);
    assert.equal(error.status, 502);
    assert.equal(error.code, "http_502");
    assert.match(error.message, /service failed \(502 Bad Gateway\)/);
  });

  it("pins a 400 about a parameter to its form field", async () => {
    const res = new Response(
      JSON.stringify({ message: "Parameter: 'src' is missing from namespace 'build' or empty", status: 400 }),
      { status: 400 },
    );
    assert.equal((await errorFromResponse(res)).field, "src");
  });

  it("marks 401 as unauthorized", async () => {
    const error = await errorFromResponse(new Response('{"message":"Invalid token"}', { status: 401 }));
    assert.equal(error.unauthorized, true);
  });
});

describe("fieldOfError", () => {
  it("prefers an explicit field, then the code, then the message", () => {
    assert.equal(fieldOfError({ field: "description", message: "name is bad" }), "description");
    assert.equal(fieldOfError({ code: "invalid_src", message: "Bad" }), "src");
    assert.equal(fieldOfError({ message: "Parameter: 'name' is missing" }), "name");
  });

  it("tells the image's container from the log's", () => {
    assert.equal(
      fieldOfError({ message: '"container" field missing from parameter: "image"' }),
      "imageContainer",
    );
    assert.equal(
      fieldOfError({ message: '"container" field missing from parameter: "log"' }),
      "logContainer",
    );
    assert.equal(fieldOfError({ code: "image_object_invalid" }), "imageObject");
  });

  it("reads the service's schema messages, which name the dotted parameter", () => {
    const generic = (path: string) => ({
      message: `Invalid value for parameter '${path}': must NOT have more than 256 characters`,
      code: "invalid_parameter",
    });
    assert.equal(fieldOfError(generic("build.description")), "description");
    assert.equal(fieldOfError(generic("build.name")), "name");
    assert.equal(fieldOfError(generic("build.image.container")), "imageContainer");
    assert.equal(fieldOfError(generic("build.log.object")), "logObject");
    assert.equal(fieldOfError(generic("build.project")), "project");
    assert.equal(
      fieldOfError({
        message: "Invalid value for parameter 'build.src': must match pattern \"^[hH][tT][tT][pP][sS]?://\"",
      }),
      "src",
    );
  });

  it("returns null when nothing names a field", () => {
    assert.equal(fieldOfError({ message: "Quota exceeded", code: "quota_exceeded" }), null);
  });
});

describe("normalizeBuild", () => {
  it("fills missing arrays and error so components need no guards", () => {
    const build = normalizeBuild(base);
    assert.deepEqual(build.steps, []);
    assert.deepEqual(build.log_tail, []);
    assert.equal(build.error, null);
    assert.deepEqual(build.status_details, {});
  });

  it("parses the original service's string status_details", () => {
    const raw = { ...base, status_details: '{"details":"Build request accepted"}' } as unknown as Build;
    assert.deepEqual(normalizeBuild(raw).status_details, { details: "Build request accepted" });
    const text = { ...base, status_details: "timed out" } as unknown as Build;
    assert.deepEqual(normalizeBuild(text).status_details, { details: "timed out" });
  });
});
