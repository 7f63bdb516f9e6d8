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

/**
 * `e2fsck -fy -E discard`: checks the filesystem and punches a hole in the image for every free block,
 * so the contents of deleted files (keys, histories, logs) are gone from the raw file and the holes
 * need not be uploaded.
 *
 * @example
 * await discardFreeBlocks("disk.raw", 1048576);
 */
export function discardFreeBlocks(image: string, offset: number, signal?: AbortSignal): Promise<FsckResult> {
  return e2fsck(["-fy", "-E", "discard"], e2Spec(image, offset), signal);
}
