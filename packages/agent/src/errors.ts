/** @module errors — the agent's one error type: a stable code, the failing step, a hint for the user. */

import type { AgentErrorCode, StepName } from "@icaas/contract";

export type { AgentErrorCode, StepName };

export interface AgentErrorInit {
  code: AgentErrorCode;
  message: string;
  step?: StepName;
  hint?: string;
  cause?: unknown;
}

/**
 * A build failure as the user sees it. `message` is a sentence for a person (never holding a token),
 * `hint` what they can do about it.
 *
 * @example
 * throw new AgentError({ code: "download_not_found", step: "download",
 *   message: "The source URL answered 404 Not Found", hint: "Check the image URL" });
 */
export class AgentError extends Error {
  readonly code: AgentErrorCode;
  step: StepName | undefined;
  readonly hint: string | undefined;

  constructor(init: AgentErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AgentError";
    this.code = init.code;
    this.step = init.step;
    this.hint = init.hint;
  }

  /** The `error` object of a status report. */
  toReport(): { code: string; message: string; step?: string; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.step ? { step: this.step } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

/** True for the errors that mean "someone asked us to stop", not "the build went wrong". */
export function isStopRequest(error: unknown): boolean {
  return error instanceof AgentError && (error.code === "canceled" || error.code === "stopped");
}

/** Wraps anything thrown into an AgentError of the given step (AgentErrors keep their own code). */
export function toAgentError(
  error: unknown,
  step: StepName | undefined,
  fallback: AgentErrorCode = "internal_error",
): AgentError {
  if (error instanceof AgentError) {
    if (!error.step) error.step = step;
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AgentError({ code: fallback, step, message, cause: error });
}

/** The error an aborted signal stands for: its reason when that is an AgentError, else "stopped". */
export function abortError(signal: AbortSignal, step?: StepName): AgentError {
  const reason: unknown = signal.reason;
  if (reason instanceof AgentError) return reason;
  return new AgentError({
    code: "stopped",
    step,
    message: "Image creation failed. Stopped before completing",
  });
}
