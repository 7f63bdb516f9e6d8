/** @module tasks/cleanup-tmp — removes everything under /tmp and /var/tmp. */
import type { Task } from "./types.ts";
import { outcome } from "./types.ts";

export const cleanupTmp: Task = {
  name: "cleanup-tmp",
  description: "Remove all files and directories under /tmp and /var/tmp",
  enabledByDefault: true,
  stage: "prepare",
  async run({ fs }) {
    const changes: string[] = [];
    for (const dir of ["/tmp", "/var/tmp"]) {
      const entries = (await fs.list(dir)).map((e) => `${dir}/${e.name}`);
      const n = await fs.removeTrees(entries);
      if (n > 0) changes.push(`removed ${n} entries under ${dir}`);
    }
    return outcome(changes, "/tmp and /var/tmp are empty");
  },
};
