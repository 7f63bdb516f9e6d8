/** @module steps/cloud-errors — Synnefo failures as agent errors: quota, rejected token, the rest. */
import { SynnefoError } from "@icaas/synnefo";
import { AgentError, type AgentErrorCode, type StepName } from "../errors.ts";

/**
 * Maps a failed Pithos/Plankton call: 413 → `quota_exceeded`, 401 → `auth_failed`, anything else
 * → `fallback`. Messages carry the service's own words, never a token.
 */
export function cloudFailure(
  error: unknown,
  step: StepName,
  fallback: AgentErrorCode,
  what: string,
): AgentError {
  if (error instanceof AgentError) return error;
  if (error instanceof SynnefoError) {
    const said = [error.message, error.details].filter(Boolean).join(": ");
    if (error.status === 413) {
      return new AgentError({
        code: "quota_exceeded",
        step,
        message: `Pithos quota exceeded: ${said}`,
        hint: "Free some space in Pithos or ask for a larger storage quota, then build again",
        cause: error,
      });
    }
    if (error.status === 401) {
      return new AgentError({
        code: "auth_failed",
        step,
        message: `${what}: the token was refused (${said})`,
        hint: "The token may have expired or been renewed; build again with a fresh one",
        cause: error,
      });
    }
    return new AgentError({
      code: fallback,
      step,
      message: `${what}: ${said}${error.status ? ` (HTTP ${error.status})` : ""}`,
      hint: error.retriable ? "The cloud did not answer properly; try again later" : undefined,
      cause: error,
    });
  }
  return new AgentError({
    code: fallback,
    step,
    message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
    cause: error,
  });
}
