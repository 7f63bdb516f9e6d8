/** @module steps/cloud-errors — Synnefo failures as agent errors: quota, rejected token, the rest. */
import { SynnefoError } from "@icaas/synnefo";
import { AgentError, agentErrors } from "../errors.ts";

/**
 * Maps a failed Pithos/Plankton call: 413 → `quota_exceeded`, 401 → `auth_failed`, anything else
 * → `fallback`. Messages carry the service's own words, never a token.
 */
export function cloudFailure(
  error: unknown,
  fallback: "upload_failed" | "register_failed",
  what: string,
): AgentError {
  if (error instanceof AgentError) return error;
  if (error instanceof SynnefoError) {
    const said = [error.message, error.details].filter(Boolean).join(": ");
    if (error.status === 413) return agentErrors.quotaExceeded(said, error);
    if (error.status === 401) return agentErrors.tokenRefused(what, said, error);
    const status = error.status ? ` (HTTP ${error.status})` : "";
    return agentErrors.cloudFailed(fallback, `${what}: ${said}${status}`, error, error.retriable);
  }
  const said = error instanceof Error ? error.message : String(error);
  return agentErrors.cloudFailed(fallback, `${what}: ${said}`, error);
}
