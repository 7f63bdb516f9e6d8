import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STEP_NAMES } from "@icaas/contract";
import { StepTracker } from "./step-tracker.ts";

describe("StepTracker", () => {
  const weights = {
    download: { perByte: 1, fixed: 0 },
    unpack: { perByte: 0.5, fixed: 0 },
    register: { perByte: 0, fixed: 100 },
  };

  it("lists every step in order with states, bytes and times", () => {
    const t = new StepTracker(weights, () => new Date("2026-01-01T00:00:00Z"));
    t.start("manifest");
    t.finish("manifest");
    t.start("download");
    t.progress("download", 50, 200);
    const steps = t.steps();
    assert.deepEqual(
      steps.map((s) => s.name),
      STEP_NAMES,
    );
    assert.deepEqual(steps[1], {
      name: "download",
      state: "running",
      bytes_done: 50,
      bytes_total: 200,
      started: "2026-01-01T00:00:00.000Z",
      finished: null,
    });
    assert.equal(t.current, "download");
  });

  it("weighs bytes per step and counts estimates of steps not yet run", () => {
    const t = new StepTracker(weights);
    t.estimate("unpack", 200);
    t.start("download");
    t.progress("download", 100, 200);
    // manifest, inspect, … default to fixed 1 each (7 of them), register 100.
    const p = t.agentProgress();
    assert.equal(p.total, 200 + 100 + 100 + 7);
    assert.equal(p.current, 100);
  });

  it("never lets the fraction go back when an estimate grows", () => {
    const t = new StepTracker(weights);
    t.start("download");
    t.progress("download", 90, 100);
    const before = t.agentProgress();
    t.estimate("unpack", 100_000);
    const after = t.agentProgress();
    assert.ok(after.current / after.total >= before.current / before.total - 1e-9);
    assert.ok(after.current <= after.total);
  });

  it("drops skipped steps from the total and ends at 100%", () => {
    const t = new StepTracker(weights);
    for (const name of STEP_NAMES) {
      t.start(name);
      if (name === "unpack") t.skip(name);
      else t.finish(name);
    }
    const p = t.agentProgress();
    assert.equal(p.current, p.total);
    assert.equal(t.steps()[2]!.state, "skipped");
  });
});
