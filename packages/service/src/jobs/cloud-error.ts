/** @module jobs/cloud-error — how the agent VM jobs put a failed cloud call into their logs and build details. */
import { SynnefoError } from "@icaas/synnefo";

/** `413 overLimit: …` for a Synnefo refusal; the message of any other error. */
export function describeCloudError(error: unknown): string {
  if (error instanceof SynnefoError) return `${error.status} ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
