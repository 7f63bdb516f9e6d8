/** @module run-build — the step runner: runs the steps in order, tracks them, stops on abort, cleans up. */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type AgentError, abortError, toAgentError } from "./errors.ts";
import type { StepTracker } from "./step-tracker.ts";
import type { BuildContext, BuildState, StepDefinition } from "./steps/step.ts";

export interface RunBuildOptions {
  steps: StepDefinition[];
  ctx: Omit<BuildContext, "workDir" | "estimate">;
  /** A fresh `icaas-XXXXXX` directory is made (and removed) in here. */
  workRoot: string;
  tracker: StepTracker;
  /** Called at each step change (the reporter sends a report). */
  onStepChange?: (step: StepDefinition, state: "running" | "done" | "skipped" | "failed") => void;
  /** Keep the work directory (debugging). */
  keepWorkDir?: boolean;
}

export type BuildOutcome =
  | { ok: true; state: BuildState }
  | { ok: false; error: AgentError; state: BuildState };

/**
 * Runs `steps` one after another. A step's failure (or the signal aborting: cancel, SIGTERM,
 * timeout) stops the build: the running step is marked failed, the earlier steps' cleanups run in
 * reverse order, and the work directory is removed whatever happened.
 *
 * @example
 * const outcome = await runBuild({ steps: BUILD_STEPS, ctx, workRoot: "/var/tmp", tracker });
 */
export async function runBuild(options: RunBuildOptions): Promise<BuildOutcome> {
  const { tracker, steps } = options;
  const { log, signal } = options.ctx;
  const workDir = await mkdtemp(join(options.workRoot, "icaas-"));
  const ctx: BuildContext = {
    ...options.ctx,
    workDir,
    estimate: (step, bytes) => tracker.estimate(step, bytes),
  };
  const state: BuildState = {};
  const finished: StepDefinition[] = [];
  try {
    for (const step of steps) {
      if (signal.aborted) throw abortError(signal, step.name);
      tracker.start(step.name);
      log.info(`step ${step.name}: started`);
      options.onStepChange?.(step, "running");
      const began = Date.now();
      let outcome: "done" | "skipped";
      try {
        outcome = await step.run(ctx, state, (done, total) => tracker.progress(step.name, done, total));
        if (signal.aborted) throw abortError(signal, step.name);
      } catch (error) {
        const failure = signal.aborted
          ? abortError(signal, step.name)
          : toAgentError(error, step.name, step.failureCode);
        if (!failure.step) failure.step = step.name;
        tracker.fail(step.name);
        log.error(`step ${step.name}: failed: ${failure.code}: ${failure.message}`);
        if (failure.hint) log.info(`hint: ${failure.hint}`);
        const cause = (failure.cause as Error | undefined)?.message;
        if (cause && cause !== failure.message) log.debug(`cause: ${cause}`);
        options.onStepChange?.(step, "failed");
        throw failure;
      }
      if (outcome === "skipped") tracker.skip(step.name);
      else tracker.finish(step.name);
      finished.push(step);
      log.info(`step ${step.name}: ${outcome} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
      options.onStepChange?.(step, outcome);
    }
    return { ok: true, state };
  } catch (error) {
    const failure = toAgentError(error, tracker.current);
    for (const step of [...finished].reverse()) {
      if (!step.cleanup) continue;
      try {
        await step.cleanup(ctx, state);
      } catch (e) {
        log.warn(`cleanup of ${step.name} failed: ${(e as Error).message}`);
      }
    }
    return { ok: false, error: failure, state };
  } finally {
    if (!options.keepWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}
