import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentError } from "./errors.ts";
import { AgentLog } from "./log.ts";
import type { Manifest } from "./manifest.ts";
import { runBuild } from "./run-build.ts";
import { StepTracker } from "./step-tracker.ts";
import type { BuildServices, StepDefinition } from "./steps/step.ts";

function step(
  name: StepDefinition["name"],
  run: StepDefinition["run"],
  cleanup?: StepDefinition["cleanup"],
): StepDefinition {
  return {
    name,
    details: `${name}...`,
    weight: { perByte: 1, fixed: 0 },
    failureCode: "internal_error",
    run,
    cleanup,
  };
}

describe("runBuild", () => {
  let root: string;
  const manifest = {} as Manifest;
  const services = {} as BuildServices;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "icaas-run-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("runs steps in order in a fresh work dir, tracks them and removes the dir", async () => {
    const order: string[] = [];
    let workDir = "";
    const tracker = new StepTracker({});
    const changes: string[] = [];
    const outcome = await runBuild({
      steps: [
        step("download", async (ctx, _s, progress) => {
          workDir = ctx.workDir;
          await writeFile(join(ctx.workDir, "file"), "x");
          progress(5, 10);
          progress(10, 10);
          order.push("download");
          return "done";
        }),
        step("unpack", async () => {
          order.push("unpack");
          return "skipped";
        }),
      ],
      ctx: { manifest, services, log: new AgentLog(), signal: new AbortController().signal },
      workRoot: root,
      tracker,
      onStepChange: (s, state) => changes.push(`${s.name}:${state}`),
    });
    assert.equal(outcome.ok, true);
    assert.deepEqual(order, ["download", "unpack"]);
    assert.deepEqual(changes, ["download:running", "download:done", "unpack:running", "unpack:skipped"]);
    assert.equal(tracker.state("download"), "done");
    assert.equal(tracker.steps()[1]!.bytes_done, 10);
    assert.equal(existsSync(workDir), false);
    assert.deepEqual(await readdir(root), []);
  });

  it("stops at a failing step, marks it, keeps its code and step, and cleans up in reverse", async () => {
    const cleaned: string[] = [];
    const tracker = new StepTracker({});
    const log = new AgentLog();
    const outcome = await runBuild({
      steps: [
        step(
          "download",
          async () => "done",
          async () => void cleaned.push("download"),
        ),
        step(
          "unpack",
          async () => "done",
          async () => void cleaned.push("unpack"),
        ),
        step("inspect", async () => {
          throw new AgentError({ code: "not_a_disk_image", message: "no disk", hint: "give a disk" });
        }),
        step("convert", async () => {
          throw new Error("never reached");
        }),
      ],
      ctx: { manifest, services, log, signal: new AbortController().signal },
      workRoot: root,
      tracker,
    });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.error.code, "not_a_disk_image");
    assert.equal(outcome.error.step, "inspect");
    assert.deepEqual(cleaned, ["unpack", "download"]);
    assert.equal(tracker.state("inspect"), "failed");
    assert.equal(tracker.state("convert"), "pending");
    assert.ok(log.tail(10).some((l) => /ERROR step inspect: failed: not_a_disk_image: no disk/.test(l)));
    assert.ok(log.tail(10).some((l) => /INFO hint: give a disk/.test(l)));
  });

  it("turns an abort into the abort's reason, even if the step throws something else", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const outcome = await runBuild({
      steps: [
        step("download", async (ctx) => {
          // The cancel comes while the step waits (not after a fixed time, which a loaded machine may
          // spend before the step has even begun); the step then throws its own AbortError.
          const waiting = sleep(10_000, undefined, { signal: ctx.signal });
          controller.abort(new AgentError({ code: "canceled", message: "canceled by the user" }));
          await waiting;
          return "done";
        }),
      ],
      ctx: { manifest, services, log: new AgentLog(), signal: controller.signal },
      workRoot: root,
      tracker: new StepTracker({}),
    });
    assert.ok(Date.now() - started < 2000);
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.equal(outcome.error.code, "canceled");
      assert.equal(outcome.error.step, "download");
    }
  });

  it("wraps foreign errors with the step's failure code", async () => {
    const outcome = await runBuild({
      steps: [
        { ...step("convert", async () => Promise.reject(new Error("boom"))), failureCode: "convert_failed" },
      ],
      ctx: { manifest, services, log: new AgentLog(), signal: new AbortController().signal },
      workRoot: root,
      tracker: new StepTracker({}),
    });
    assert.equal(outcome.ok, false);
    if (!outcome.ok)
      assert.deepEqual(outcome.error.toReport(), {
        code: "convert_failed",
        message: "boom",
        step: "convert",
      });
  });
});
