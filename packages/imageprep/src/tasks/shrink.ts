/** @module tasks/shrink — the last task: shrink the last filesystem and cut the disk after it (run by shrinkImage). */
import type { Task } from "./types.ts";

export const shrink: Task = {
  name: "shrink",
  description:
    "Shrink the last filesystem and update the partition table (shrinkImage runs it, after prepare)",
  enabledByDefault: true,
  stage: "shrink",
  async run() {
    return { changes: [], skipped: "runs in shrinkImage" };
  },
};
