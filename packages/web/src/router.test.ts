/** @module router.test — paths map to pages and back. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matchRoute, routePath } from "./router.ts";

describe("matchRoute", () => {
  it("maps the app's paths", () => {
    assert.deepEqual(matchRoute("/"), { page: "list" });
    assert.deepEqual(matchRoute("/builds/"), { page: "list" });
    assert.deepEqual(matchRoute("/login"), { page: "login" });
    assert.deepEqual(matchRoute("/builds/new"), { page: "new" });
    assert.deepEqual(matchRoute("/builds/42"), { page: "detail", id: "42" });
    assert.deepEqual(matchRoute("/nope"), { page: "not-found", path: "/nope" });
  });
  it("round-trips ids through paths", () => {
    const route = { page: "detail", id: "a b/c" } as const;
    assert.deepEqual(matchRoute(routePath(route)), route);
  });
});
