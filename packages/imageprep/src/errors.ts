/** @module errors — the one error type of @icaas/imageprep, with a stable `code` callers can branch on. */

/**
 * What went wrong, in words a program can test:
 * - `unsupported_image`: the image is readable but cannot be prepared here (LVM, no OS, a non-ext root…);
 * - `invalid_image`: the file is not a raw disk image we can read (missing, qcow2, no partition table…);
 * - `tool_failed`: an external program (sfdisk, debugfs, e2fsck, resize2fs, …) failed;
 * - `task_failed`: a preparation task failed part-way;
 * - `invalid_option`: a caller passed an unknown task, a bad parameter, …;
 * - `not_found`: a file asked for inside the guest does not exist;
 * - `scrub_failed`: free blocks still hold data after the discard, so deleted secrets could leak.
 */
export type ImagePrepErrorCode =
  | "unsupported_image"
  | "invalid_image"
  | "tool_failed"
  | "task_failed"
  | "invalid_option"
  | "not_found"
  | "scrub_failed";

export interface ImagePrepErrorInit {
  /** The external program, for `tool_failed`. */
  tool?: string;
  /** The task, for `task_failed`. */
  task?: string;
  cause?: unknown;
}

/**
 * The error every function of this package throws on purpose.
 *
 * @example
 * try { await prepareImage(path) } catch (e) {
 *   if (e instanceof ImagePrepError && e.code === "unsupported_image") log(`cannot prepare: ${e.message}`);
 * }
 */
export class ImagePrepError extends Error {
  readonly code: ImagePrepErrorCode;
  readonly tool?: string;
  readonly task?: string;

  constructor(code: ImagePrepErrorCode, message: string, init: ImagePrepErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ImagePrepError";
    this.code = code;
    if (init.tool !== undefined) this.tool = init.tool;
    if (init.task !== undefined) this.task = init.task;
  }
}

/** True when `e` is an {@link ImagePrepError}, optionally with the given code. */
export function isImagePrepError(e: unknown, code?: ImagePrepErrorCode): e is ImagePrepError {
  return e instanceof ImagePrepError && (code === undefined || e.code === code);
}
