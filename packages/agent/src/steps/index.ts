/** @module steps — the build's steps in the order they run, and their weights in the overall progress. */
import type { StepName } from "../errors.ts";
import type { StepWeight } from "../step-tracker.ts";
import { convertStep } from "./convert.ts";
import { downloadStep } from "./download.ts";
import { inspectStep } from "./inspect.ts";
import { prepareStep } from "./prepare.ts";
import { registerStep } from "./register.ts";
import { shrinkStep } from "./shrink.ts";
import type { StepDefinition } from "./step.ts";
import { unpackStep } from "./unpack.ts";
import { uploadStep } from "./upload.ts";

/** manifest → download → unpack → inspect → convert → prepare → shrink → upload → register → log. */
export const BUILD_STEPS: StepDefinition[] = [
  downloadStep,
  unpackStep,
  inspectStep,
  convertStep,
  prepareStep,
  shrinkStep,
  uploadStep,
  registerStep,
];

/** Weights of every step, the ones the agent runs around `BUILD_STEPS` (manifest, log) included. */
export const STEP_WEIGHTS: Partial<Record<StepName, StepWeight>> = {
  manifest: { perByte: 0, fixed: 1 << 20 },
  ...Object.fromEntries(BUILD_STEPS.map((s) => [s.name, s.weight])),
  log: { perByte: 0, fixed: 1 << 20 },
};
