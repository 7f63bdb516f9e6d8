import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BUILD_STATUSES, isFinal } from "./status.ts";
import { STEP_NAMES } from "./steps.ts";

describe("statuses and steps", () => {
  it("ends a build in COMPLETED, ERROR or CANCELED only", () => {
    assert.deepEqual(
      BUILD_STATUSES.filter((s) => isFinal(s)),
      ["COMPLETED", "ERROR", "CANCELED"],
    );
    assert.equal(isFinal("creating"), false, "statuses are compared as sent");
  });
  it("keeps the wire's step names in the order the agent runs them", () => {
    // Clients and stored builds know these names: renaming or reordering one is an API change.
    assert.equal(
      STEP_NAMES.join(" "),
      "manifest download unpack inspect convert prepare shrink upload register log",
    );
  });
});
