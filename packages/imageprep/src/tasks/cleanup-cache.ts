/** @module tasks/cleanup-cache — removes every regular file under /var/cache. */
import type { Task } from "./types.ts";
import { outcome } from "./types.ts";

export const cleanupCache: Task = {
  name: "cleanup-cache",
  description: "Remove all regular files under /var/cache",
  enabledByDefault: true,
  stage: "prepare",
  async run({ fs }) {
    const files = (await fs.walk("/var/cache")).filter((e) => e.type === "file").map((e) => e.path);
    await fs.removeTrees(files);
    return outcome(
      files.length > 0 ? [`removed ${files.length} files under /var/cache`] : [],
      "/var/cache holds no files",
    );
  },
};
