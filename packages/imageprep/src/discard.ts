/** @module discard — e2fsck runs on a partition in place: repair before editing, and discard of freed blocks after. */
import { ImagePrepError } from "./errors.ts";
import { runTool } from "./run-tool.ts";

/** How e2fsprogs is told "the filesystem starting `offset` bytes into `image`". */
export function e2Spec(image: string, offset: number): string {
  // e2fsprogs reads everything after `?` as io options.
  if (image.includes("?"))
    throw new ImagePrepError("invalid_option", `image path must not contain "?": ${image}`);
  return offset > 0 ? `${image}?offset=${offset}` : image;
}

export interface FsckResult {
  /** e2fsck's exit code: 0 clean, 1 errors fixed. */
  code: number;
  output: string;
}

async function e2fsck(args: string[], spec: string, signal?: AbortSignal): Promise<FsckResult> {
  const r = await runTool("e2fsck", [...args, spec], { okCodes: [0, 1, 2, 4, 8, 12], signal });
  const output = `${r.stdout}${r.stderr}`.trim();
  if (r.code >= 4) {
    throw new ImagePrepError(
      "tool_failed",
      `e2fsck could not repair ${spec} (exit code ${r.code}): ${output.split("\n").slice(-10).join("\n")}`,
      {
        tool: "e2fsck",
      },
    );
  }
  return { code: r.code, output };
}

/** `e2fsck -fy`: replays the journal and repairs, so debugfs edits a consistent filesystem. */
export function repairFilesystem(image: string, offset: number, signal?: AbortSignal): Promise<FsckResult> {
  return e2fsck(["-fy"], e2Spec(image, offset), signal);
}

/** Whether an e2fsck run changed the filesystem: repairs (exit 1), and optimisations such as Pass 3A (exit 0). */
export function fsckModified(r: FsckResult): boolean {
  return r.code !== 0 || /FILE SYSTEM WAS MODIFIED/.test(r.output);
}

export interface ScrubResult {
  /** The repair pass changed the filesystem (fixed errors, optimised directories). */
  repaired: boolean;
  /** How many `-E discard` passes ran (more than one when a pass still changed something). */
  discardPasses: number;
}

/** Discard passes tried before giving up on a filesystem e2fsck keeps changing. */
const MAX_DISCARD_PASSES = 3;

/**
 * Punches a hole in the image for every free block, so the contents of deleted and emptied files
 * (keys, histories, logs) are gone from the raw file and the holes need not be uploaded.
 *
 * e2fsck silently skips the discard in any run that changes the filesystem (pass5.c: once
 * `ext2fs_test_changed`, or on a bitmap difference, it clears `E2F_OPT_DISCARD`) — and "Pass 3A:
 * Optimizing directories" on a directory that lost entries changes it with exit code 0. So a
 * repair pass runs first, then the discard in a pass of its own, which must leave the filesystem
 * unchanged to count; {@link verifyFreeBlocksZero} then proves the result.
 *
 * @example
 * await scrubFreeBlocks("disk.raw", 1048576);
 */
export async function scrubFreeBlocks(
  image: string,
  offset: number,
  signal?: AbortSignal,
): Promise<ScrubResult> {
  const spec = e2Spec(image, offset);
  const repaired = fsckModified(await e2fsck(["-fy"], spec, signal));
  for (let pass = 1; pass <= MAX_DISCARD_PASSES; pass++) {
    const r = await e2fsck(["-fy", "-E", "discard"], spec, signal);
    if (!fsckModified(r)) return { repaired: repaired || pass > 1, discardPasses: pass };
  }
  throw new ImagePrepError(
    "scrub_failed",
    `e2fsck changed ${spec} in each of ${MAX_DISCARD_PASSES} passes, and it does not discard free blocks in a pass that changes the filesystem`,
  );
}
