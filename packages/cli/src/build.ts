/** @module build — the step a build's agent is in (the build's types are @icaas/contract's). */
import type { Build, BuildStep } from "@icaas/contract";

/** The step the agent is in: the running one, else the failed one, else the last finished one. */
export function currentStep(build: Pick<Build, "steps">): BuildStep | undefined {
  const steps = build.steps ?? [];
  return (
    steps.find((s) => s.state === "running") ??
    steps.find((s) => s.state === "failed") ??
    [...steps].reverse().find((s) => s.state === "done")
  );
}
