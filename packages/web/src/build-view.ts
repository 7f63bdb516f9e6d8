/** @module build-view — what the pages show about a build, derived once from the API's build object. */
import { type BuildStatus, STEP_NAMES, type StepName } from "@icaas/contract";
import type { Build, BuildStep } from "./api.ts";

/** Every step has a label: a step added to the contract does not compile until it gets one here. */
const STEP_LABELS: Record<StepName | "agent", string> = {
  // The service's own step before the agent runs.
  agent: "Start agent VM",
  manifest: "Fetch manifest",
  download: "Download source",
  unpack: "Unpack archive",
  inspect: "Inspect disk",
  convert: "Convert to raw",
  prepare: "Prepare system",
  shrink: "Shrink image",
  upload: "Upload to Pithos",
  register: "Register image",
  log: "Upload log",
};

export function stepLabel(name: string): string {
  return (STEP_LABELS as Record<string, string>)[name] ?? name.charAt(0).toUpperCase() + name.slice(1);
}

export const STATUS_LABELS: Record<BuildStatus, string> = {
  CREATING: "Creating",
  COMPLETED: "Completed",
  CANCELED: "Canceled",
  ERROR: "Error",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status as BuildStatus] ?? status;
}

export function isActive(build: Pick<Build, "status">): boolean {
  return build.status === "CREATING";
}

/** Overall progress 0–100, or null when unknown (no agent report yet). */
export function overallProgress(build: Build): number | null {
  if (build.status === "COMPLETED") return 100;
  if (typeof build.progress === "number" && Number.isFinite(build.progress)) {
    return clamp(build.progress, 0, 100);
  }
  const agent = build.status_details?.["agent-progress"];
  if (agent && agent.total > 0) return clamp((agent.current / agent.total) * 100, 0, 100);
  return null;
}

/** The step the agent is on: the running one, else the first failed one, else the last one done. */
export function currentStep(build: Build): BuildStep | null {
  const steps = build.steps ?? [];
  return (
    steps.find((s) => s.state === "running") ??
    steps.find((s) => s.state === "failed") ??
    [...steps].reverse().find((s) => s.state === "done") ??
    null
  );
}

/** One line for the list and the live region: the current step, else the service's status text. */
export function activityText(build: Build): string {
  const step = currentStep(build);
  if (build.status === "CREATING") {
    if (step?.state === "running") return `${stepLabel(step.name)}…`;
    const details = build.status_details?.details;
    return typeof details === "string" && details !== "" ? details : "Waiting for the agent…";
  }
  if (build.status === "ERROR") return build.error?.message ?? build.status_details?.details ?? "Failed";
  if (build.status === "CANCELED") return "Canceled by the user";
  return "Image ready";
}

/**
 * Every known step in agent order, filling the ones the agent has not reported yet as pending,
 * so the timeline keeps its shape (and its height) while a build runs.
 */
export function timeline(build: Build): BuildStep[] {
  const reported = new Map((build.steps ?? []).map((s) => [s.name, s]));
  // An error names its step even when the agent died before reporting steps.
  const failedAt = build.status === "ERROR" ? build.error?.step : undefined;
  const known: BuildStep[] = STEP_NAMES.map(
    (name) => reported.get(name) ?? { name, state: name === failedAt ? "failed" : "pending" },
  );
  const extra = (build.steps ?? []).filter((s) => !(STEP_NAMES as readonly string[]).includes(s.name));
  return [...known, ...extra];
}

/** Fraction 0–1 of a step's bytes, or null when the step has no byte count. */
export function stepFraction(step: BuildStep): number | null {
  if (step.state === "done") return 1;
  const done = step.bytes_done;
  const total = step.bytes_total;
  if (typeof done !== "number" || typeof total !== "number" || total <= 0) return null;
  return clamp(done / total, 0, 1);
}

/** Milliseconds a step took, or has taken so far when it is still running. */
export function stepDurationMs(step: BuildStep, now: number): number | null {
  if (!step.started) return null;
  const start = Date.parse(step.started);
  if (Number.isNaN(start)) return null;
  const end = step.finished ? Date.parse(step.finished) : step.state === "running" ? now : Number.NaN;
  if (Number.isNaN(end)) return null;
  return Math.max(0, end - start);
}

/** Where the image lives in Pithos: the agent's `pithos://` URL, else container/object. */
export function pithosLocation(build: Build): string | null {
  if (build.image_location) return build.image_location;
  const image = build.image;
  if (!image?.container || !image.object) return null;
  return image.account
    ? `pithos://${image.account}/${image.container}/${image.object}`
    : `${image.container}/${image.object}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
