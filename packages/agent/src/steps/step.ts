/** @module steps/step — what a step is to the runner: a name, a weight, a run function, a cleanup. */
import { AGENT_ERROR_CODES } from "@icaas/contract";
import type { BlockPresender, ImageInfo, PithosClient, PlanktonClient } from "@icaas/synnefo";
import type { StreamOutcome } from "../download/streamed-image.ts";
import type { AgentErrorCode, StepName } from "../errors.ts";
import type { AgentLog } from "../log.ts";
import type { Manifest } from "../manifest.ts";
import type { StepWeight } from "../step-tracker.ts";
import type { DiskInfo } from "./disk-info.ts";

/** The cloud clients a build uses. */
export interface BuildServices {
  /** Pithos client bound to the account the image goes to. */
  imageStore: PithosClient;
  plankton: PlanktonClient;
  /** The account (user uuid) the image object lives in. */
  imageAccount: string;
}

/**
 * Everything the steps hand to each other, filled in as the build goes. The download and unpack
 * entries say what later steps read; the steps store their whole results (`DownloadResult`,
 * `UnpackResult`), which the compiler checks against these. Naming those types here would make a
 * cycle: their modules define steps, so they import this one.
 */
export interface BuildState {
  download?: { path: string };
  unpack?: { disk: string; bytes: number };
  /** How decoding the disk while it downloaded went (a zip with a streamOptimized VMDK). */
  streamed?: StreamOutcome;
  /** The decoded disk's blocks sent to Pithos while it downloaded; the upload step ends it. */
  presend?: BlockPresender;
  disk?: DiskInfo;
  /** The sparse raw image being prepared, shrunk and uploaded. */
  raw?: string;
  /** Its size in bytes (after shrink). */
  rawBytes?: number;
  /** Image metadata for Plankton (OSFAMILY, ROOT_PARTITION, USERS, …). */
  metadata?: Record<string, string>;
  /** False when preparation turned the shrink task off. */
  shrinkWanted?: boolean;
  upload?: { container: string; object: string; bytes: number; etag?: string };
  location?: string;
  image?: ImageInfo;
}

export interface BuildContext {
  manifest: Manifest;
  /** A fresh directory of this build; removed at the end. */
  workDir: string;
  signal: AbortSignal;
  log: AgentLog;
  services: BuildServices;
  /** Tell the tracker how many bytes a later step will likely handle. */
  estimate(step: StepName, bytes: number): void;
}

export interface StepDefinition {
  name: StepName;
  /** The `details` text the user sees while it runs. */
  details: string;
  weight: StepWeight;
  /** Code for errors that are not already AgentErrors. */
  failureCode: AgentErrorCode;
  run(
    ctx: BuildContext,
    state: BuildState,
    progress: (done: number, total?: number) => void,
  ): Promise<"done" | "skipped">;
  /** Undo what the step left behind when a later step fails (reverse order, best effort). */
  cleanup?(ctx: BuildContext, state: BuildState): Promise<void>;
}

/** What a step file writes beyond its name, details and weight; `failureCode` defaults to `<name>_failed`. */
export type StepBody = Pick<StepDefinition, "run" | "cleanup"> & { failureCode?: AgentErrorCode };

/** A step definition with the fields every step fills the same way filled here. */
export function defineStep(
  name: StepName,
  details: string,
  weight: StepWeight,
  body: StepBody,
): StepDefinition {
  return { name, details, weight, ...body, failureCode: body.failureCode ?? failedCode(name) };
}

function failedCode(name: StepName): AgentErrorCode {
  const code = AGENT_ERROR_CODES.find((c) => c === `${name}_failed`);
  // Thrown when the module loads, so a step without its own code cannot ship.
  if (!code) throw new Error(`step ${name} has no ${name}_failed code: give it a failureCode`);
  return code;
}

/** A weight that grows with the bytes handled, plus an optional fixed part. */
export function perByte(perByte: number, fixed = 0): StepWeight {
  return { perByte, fixed };
}

/** A weight that does not depend on the image's size. */
export function fixedCost(fixed: number): StepWeight {
  return { perByte: 0, fixed };
}
