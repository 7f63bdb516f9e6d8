/** @module build-view.test — progress, current step, timeline and Pithos location as the pages show them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STEP_NAMES } from "@icaas/contract";
import type { Build } from "./api.ts";
import {
  activityText,
  currentStep,
  overallProgress,
  pithosLocation,
  stepDurationMs,
  stepFraction,
  timeline,
} from "./build-view.ts";

function build(over: Partial<Build>): Build {
  return {
    id: 1,
    name: "img",
    src: "http://h/x.img",
    status: "CREATING",
    created: "2026-01-01T00:00:00Z",
    updated: "2026-01-01T00:00:00Z",
    steps: [],
    ...over,
  };
}

describe("overallProgress", () => {
  it("uses the service's progress, clamped to 0–100", () => {
    assert.equal(overallProgress(build({ progress: 42.5 })), 42.5);
    assert.equal(overallProgress(build({ progress: 140 })), 100);
  });
  it("falls back to agent-progress, and is unknown before any report", () => {
    assert.equal(
      overallProgress(build({ status_details: { "agent-progress": { current: 1, total: 4 } } })),
      25,
    );
    assert.equal(overallProgress(build({})), null);
  });
  it("is 100 once completed", () => {
    assert.equal(overallProgress(build({ status: "COMPLETED", progress: 97 })), 100);
  });
});

describe("currentStep and activityText", () => {
  const steps = [
    { name: "manifest", state: "done" as const },
    { name: "download", state: "running" as const },
    { name: "unpack", state: "pending" as const },
  ];
  it("names the running step", () => {
    assert.equal(currentStep(build({ steps }))?.name, "download");
    assert.equal(activityText(build({ steps })), "Download source…");
  });
  it("shows the status text before the agent reports steps", () => {
    assert.equal(
      activityText(build({ status_details: { details: "Agent booted normally" } })),
      "Agent booted normally",
    );
  });
  it("shows the error message of a failed build", () => {
    const failed = build({
      status: "ERROR",
      error: { code: "download_not_found", message: "404 from source" },
    });
    assert.equal(activityText(failed), "404 from source");
  });
});

describe("timeline", () => {
  it("lists every agent step in order, pending when not reported", () => {
    const t = timeline(build({ steps: [{ name: "download", state: "running" }] }));
    assert.deepEqual(
      t.map((s) => s.name),
      STEP_NAMES,
    );
    assert.equal(t[0]?.state, "pending");
    assert.equal(t[1]?.state, "running");
  });
});

describe("steps", () => {
  it("measures bytes and time", () => {
    assert.equal(
      stepFraction({ name: "download", state: "running", bytes_done: 25, bytes_total: 100 }),
      0.25,
    );
    assert.equal(
      stepFraction({ name: "download", state: "running", bytes_done: 25, bytes_total: null }),
      null,
    );
    const started = "2026-01-01T00:00:00Z";
    assert.equal(
      stepDurationMs({ name: "x", state: "done", started, finished: "2026-01-01T00:01:30Z" }, 0),
      90_000,
    );
    assert.equal(stepDurationMs({ name: "x", state: "running", started }, Date.parse(started) + 5000), 5000);
    assert.equal(stepDurationMs({ name: "x", state: "pending" }, 0), null);
  });
});

describe("pithosLocation", () => {
  it("prefers the agent's pithos URL, else container/object", () => {
    assert.equal(pithosLocation(build({ image_location: "pithos://u/images/a" })), "pithos://u/images/a");
    assert.equal(pithosLocation(build({ image: { container: "images", object: "a.raw" } })), "images/a.raw");
    assert.equal(
      pithosLocation(build({ image: { container: "images", object: "a.raw", account: "u1" } })),
      "pithos://u1/images/a.raw",
    );
  });
});

describe("timeline of a failed build", () => {
  it("marks the error's step failed when the agent never reported it", () => {
    const t = timeline(
      build({ status: "ERROR", error: { code: "download_not_found", message: "404", step: "download" } }),
    );
    assert.equal(t.find((s) => s.name === "download")?.state, "failed");
    assert.equal(t.find((s) => s.name === "unpack")?.state, "pending");
  });
});
