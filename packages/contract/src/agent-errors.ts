/** @module agent-errors — the stable codes of a failed build's `error.code` when the agent failed it. */

/** `snake_case` codes the service and UI can act on (docs/agent.md lists what each means). */
export const AGENT_ERROR_CODES = [
  "manifest_invalid",
  "auth_failed",
  "download_failed",
  "download_not_found",
  "download_too_large",
  "download_too_slow",
  "source_refused",
  "checksum_mismatch",
  "unpack_failed",
  "unsafe_archive",
  "no_disk_in_archive",
  "not_a_disk_image",
  "backing_file_refused",
  "convert_failed",
  "unsupported_image",
  "prepare_failed",
  "shrink_failed",
  "scrub_failed",
  "quota_exceeded",
  "upload_failed",
  "register_failed",
  "build_timeout",
  "canceled",
  "stopped",
  "internal_error",
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];
