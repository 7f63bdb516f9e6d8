/** @module tasks/cleanup-cache — removes every regular file under /var/cache. */
import { outcome, prepareTask } from "./types.ts";

export const cleanupCache = prepareTask({
  name: "cleanup-cache",
  description: "Remove all regular files under /var/cache",
  enabledByDefault: true,
  async run({ fs }) {
    const files = (await fs.walk("/var/cache")).filter((e) => e.type === "file").map((e) => e.path);
    await fs.removeTrees(files);
    return outcome(
      files.length > 0 ? [`removed ${files.length} files under /var/cache`] : [],
      "/var/cache holds no files",
    );
  },
});
