/** @module tasks/types — the shape of a preparation task, its context and its result. */
import type { FirstBootAction } from "../first-boot-script.ts";
import type { GuestFs } from "../guest-fs/contract.ts";
import type { Inspection, OsInfo } from "../inspect.ts";

export type ParamValue = string | number | string[];

/** A tunable value, as snf-image-creator's `--sysprep-param KEY=VALUE`. */
export interface TaskParam {
  name: string;
  type: "posint" | "string" | "list";
  default: ParamValue;
  description: string;
}

export interface TaskContext {
  fs: GuestFs;
  inspection: Inspection;
  os: OsInfo;
  /** Every parameter of every task, defaults filled in. */
  params: Record<string, ParamValue>;
  /** The image metadata being built; a task may adjust it (e.g. drop removed users from USERS). */
  metadata: Record<string, string>;
  /** First-boot actions queued by earlier tasks; installed once all tasks have run. */
  firstBoot: FirstBootAction[];
  log: (line: string) => void;
}

/** What a task did: one short line per change, or why it had nothing to do. */
export interface TaskOutcome {
  changes: string[];
  /** Set when the task did not apply to this image (no such files, not a Bitnami image, …). */
  skipped?: string;
}

export interface Task {
  /** kebab-case, as snf-image-creator names its syspreps. */
  name: string;
  /** One line for listings and logs. */
  description: string;
  enabledByDefault: boolean;
  params?: TaskParam[];
  /** `shrink` runs in shrinkImage, after everything else; all other tasks run in prepareImage. */
  stage: "prepare" | "shrink";
  run: (ctx: TaskContext) => Promise<TaskOutcome>;
}

export interface TaskResult {
  name: string;
  /** `deferred` is the shrink task inside prepareImage (shrinkImage runs it). */
  status: "done" | "skipped" | "disabled" | "deferred";
  changes: string[];
  reason?: string;
  ms: number;
}

/** A task outcome with changes, or skipped with `reason` when there are none. */
export function outcome(changes: string[], reasonIfNone: string): TaskOutcome {
  return changes.length > 0 ? { changes } : { changes, skipped: reasonIfNone };
}

/** A task of the `prepare` stage (every task but shrink), the stage filled in. */
export function prepareTask(task: Omit<Task, "stage">): Task {
  return { ...task, stage: "prepare" };
}
