/** @module steps — the agent's steps and the states a step goes through, as builds show them. */

/** The steps of a build, in the order the agent runs them (the names in `steps[]`). */
export const STEP_NAMES = [
  "manifest",
  "download",
  "unpack",
  "inspect",
  "convert",
  "prepare",
  "shrink",
  "upload",
  "register",
  "log",
] as const;

export type StepName = (typeof STEP_NAMES)[number];

/** A step is `pending` until it starts; `skipped` when the image needs it not (e.g. no archive to unpack). */
export const STEP_STATES = ["pending", "running", "done", "failed", "skipped"] as const;

export type StepState = (typeof STEP_STATES)[number];
