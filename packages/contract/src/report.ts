/** @module report — the status report the agent sends to `PUT /icaas/builds/agent/{id}`. */
import type { BuildError } from "./build.ts";
import type { BuildStatus } from "./status.ts";
import type { StepState } from "./steps.ts";

/** Lines of the agent's log a report carries and the build keeps (`log_tail`). */
export const LOG_TAIL_LINES = 50;

/** A step in a report; numbers and times the agent leaves out are stored as null. */
export interface StepReport {
  name: string;
  state: StepState;
  bytes_done?: number | null;
  bytes_total?: number | null;
  started?: string | null;
  finished?: string | null;
}

/**
 * The body of a status report, sent with the agent's `X-Icaas-Token`. `CREATING` while the agent
 * works, then one `COMPLETED` or `ERROR`; `CANCELED` is refused (403): only the user cancels.
 */
export interface StatusReport {
  status: BuildStatus;
  details?: string;
  "agent-progress"?: { current: number; total: number };
  steps?: StepReport[];
  log_tail?: string[];
  error?: BuildError;
  image_id?: string;
  image_location?: string;
}
