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
 * Made by the catalogue below, `agentErrors`; the step runner fills `step` in.
 *
 * @example
 * throw new AgentError({ code: "download_not_found",
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

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

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
  return new AgentError({ code: fallback, step, message: messageOf(error), cause: error });
}

/** The error an aborted signal stands for: its reason when that is an AgentError, else "stopped". */
export function abortError(signal: AbortSignal, step?: StepName): AgentError {
  const reason: unknown = signal.reason;
  if (reason instanceof AgentError) return reason;
  return toAgentError(agentErrors.stopped(), step);
}

const define =
  (code: AgentErrorCode, message: string, hint?: string) =>
  (cause?: unknown): AgentError =>
    new AgentError({ code, message, hint, cause });

/** What a build that was told to stop says, whoever told it (the service shows it as the details too). */
export const STOPPED_MESSAGE = "Image creation failed. Stopped before completing";

/** A failure that names its own step: met outside the step runner, or inside another step's. */
const inStep =
  (step: StepName) =>
  (code: AgentErrorCode, message: string, hint?: string, cause?: unknown): AgentError =>
    new AgentError({ code, step, message, hint, cause });
const inDownload = inStep("download");
const inUnpack = inStep("unpack");

const ESCAPING_ARCHIVE_HINT =
  "The archive tries to write outside its own folder; it was not unpacked. Use a clean archive";

/**
 * Every failure the agent reports, by cause, with the words the user reads. Most name no step:
 * the step runner fills it in, and `toAgentError(error, step)` does for errors met outside a step.
 * Download and unpack errors name theirs: `download()` and the archive readers are also called on
 * their own, and the streaming path unpacks while the download step runs.
 *
 * @example
 * throw agentErrors.convertFailed("vmdk", "invalid footer");
 */
export const agentErrors = {
  // told to stop
  stopped: define("stopped", STOPPED_MESSAGE),
  shutDown: define("stopped", STOPPED_MESSAGE, "The agent was stopped (its VM was shut down or deleted)"),
  canceled: (status: number, said: string) =>
    new AgentError({ code: "canceled", message: `The service stopped the build (${status} ${said})` }),
  buildTimeout: (seconds: number) =>
    new AgentError({
      code: "build_timeout",
      message: `The build took longer than ${seconds} seconds`,
      hint: "Try a smaller image, or ask the operator for a longer build timeout",
    }),

  // download
  downloadFailed: (message: string, cause?: unknown, hint?: string) =>
    inDownload(
      "download_failed",
      `Download failed: ${message}`,
      hint ?? "Check that the image URL is reachable from the cloud and try again",
      cause,
    ),
  downloadNotFound: (status: number) =>
    inDownload(
      "download_not_found",
      `The image URL was not found (HTTP ${status})`,
      "Check that the image URL is right and publicly reachable",
    ),
  downloadTooLarge: (bytes: number, max: number) =>
    inDownload(
      "download_too_large",
      `The image file is larger than the ${max} bytes allowed (${bytes} bytes or more)`,
      "Use a smaller or compressed image, or ask the operator for a higher limit",
    ),
  downloadTooSlow: (why: string, connections: number) =>
    inDownload(
      "download_too_slow",
      `The image source is too slow: ${why} (${connections} connections in a row)`,
      "Use a faster mirror of the image, or try again later",
    ),
  checksumMismatch: (algorithm: string, actual: string, expected: string) =>
    inDownload(
      "checksum_mismatch",
      `The downloaded file's ${algorithm} is ${actual}, not the expected ${expected}`,
      "The file changed at the source or was damaged in transit; check the checksum and the URL",
    ),
  /** The source policy refused where the source (or a redirect) points. */
  sourceRefused: (message: string) =>
    inDownload(
      "source_refused",
      message,
      "Give a public image URL, or ask the operator to allow-list an on-premises mirror",
    ),

  // unpack
  /** `kind`: "zip archive", "tar archive", "gzip data"…; `check`: the command that checks it at the source. */
  archiveDamaged: (kind: string, detail: string, check: string | undefined, cause?: unknown) =>
    inUnpack(
      "unpack_failed",
      `The ${kind} is damaged or truncated: ${detail}`,
      check
        ? `Download the archive again or check it at the source (${check})`
        : "Download the file again or check it at the source",
      cause,
    ),
  zipFeatureUnsupported: (said: string, cause: unknown) =>
    inUnpack(
      "unpack_failed",
      `The zip archive uses a feature the agent cannot read: ${said}`,
      "Re-create the zip with plain deflate compression and no encryption",
      cause,
    ),
  archiveEscapes: (message: string, cause?: unknown) =>
    inUnpack("unsafe_archive", message, ESCAPING_ARCHIVE_HINT, cause),
  expansionRefused: (message: string) =>
    inUnpack(
      "unsafe_archive",
      message,
      "The archive expands far beyond its own size (a decompression bomb?); it was not unpacked",
    ),
  noDiskInArchive: (holds: string) =>
    inUnpack(
      "no_disk_in_archive",
      `The archive holds no disk image (${holds})`,
      "The archive must contain a disk file: .vmdk, .qcow2, .img, .raw, .vhd, .vhdx or .vdi",
    ),
  /** Met by the streaming decoder during download and by the file path in convert: the runner names the step. */
  vmdkDamaged: (detail: string) =>
    new AgentError({
      code: "convert_failed",
      message: `The VMDK image is damaged: ${detail}`,
      hint: "Download the image again or check it at the source (qemu-img check)",
    }),

  // manifest
  manifestInvalid: (message: string, hint?: string) =>
    new AgentError({ code: "manifest_invalid", message, hint }),
  astakosRefused: (cause: unknown) =>
    new AgentError({
      code: "auth_failed",
      message: `Astakos: ${messageOf(cause)}`,
      hint: "The user's token was refused or Astakos is unreachable; build again with a valid token",
      cause,
    }),

  // inspect, convert
  backingFileRefused: (message: string) =>
    new AgentError({
      code: "backing_file_refused",
      message,
      hint: "Give a self-contained image: flatten it first (qemu-img convert -O qcow2 in.qcow2 out.qcow2)",
    }),
  unsupportedImage: (message: string, hint?: string) =>
    new AgentError({ code: "unsupported_image", message, hint }),
  notADiskImage: (message: string, hint?: string) =>
    new AgentError({
      code: "not_a_disk_image",
      message,
      hint:
        hint ??
        "The URL must point to a disk image (raw, qcow2, vmdk, vhd, vhdx, vdi) or an archive holding one",
    }),
  convertFailed: (format: string, said: string) =>
    new AgentError({
      code: "convert_failed",
      message: `qemu-img could not convert the ${format} image: ${said}`,
      hint: "The image may be damaged; check it with qemu-img check",
    }),

  // prepare, shrink
  cannotPrepare: (said: string, cause: unknown) =>
    new AgentError({
      code: "unsupported_image",
      message: `The image cannot be prepared: ${said}`,
      hint: "ICaaS prepares Linux images whose root is ext2/3/4, XFS or btrfs, on a partition or in LVM, on an MBR or GPT disk",
      cause,
    }),
  scrubFailed: (said: string, cause: unknown) =>
    new AgentError({
      code: "scrub_failed",
      message: `The image was not uploaded: deleted files may still be readable in it: ${said}`,
      hint: "This is a fault of the image preparation, not of your image; report it with the build log",
      cause,
    }),
  prepareFailed: (cause: unknown) => imageDamaged("prepare_failed", "Preparing", cause),
  shrinkFailed: (cause: unknown) => imageDamaged("shrink_failed", "Shrinking", cause),

  // upload, register (Pithos, Plankton)
  quotaExceeded: (said: string, cause: unknown) =>
    new AgentError({
      code: "quota_exceeded",
      message: `Pithos quota exceeded: ${said}`,
      hint: "Free some space in Pithos or ask for a larger storage quota, then build again",
      cause,
    }),
  tokenRefused: (what: string, said: string, cause: unknown) =>
    new AgentError({
      code: "auth_failed",
      message: `${what}: the token was refused (${said})`,
      hint: "The token may have expired or been renewed; build again with a fresh one",
      cause,
    }),
  /** `retriable`: the cloud failed (5xx, timeout), not the request; trying later may work. */
  cloudFailed: (
    code: "upload_failed" | "register_failed",
    message: string,
    cause: unknown,
    retriable = false,
  ) =>
    new AgentError({
      code,
      message,
      hint: retriable ? "The cloud did not answer properly; try again later" : undefined,
      cause,
    }),
} as const;

function imageDamaged(code: AgentErrorCode, doing: string, cause: unknown): AgentError {
  return new AgentError({
    code,
    message: `${doing} the image failed: ${messageOf(cause)}`,
    hint: "The image's filesystem may be damaged; check it with e2fsck",
    cause,
  });
}
