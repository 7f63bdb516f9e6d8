/** @module tasks/cleanup-log — empties every regular file under /var/log, keeping the files themselves. */
import { outcome, prepareTask } from "./types.ts";

export const cleanupLog = prepareTask({
  name: "cleanup-log",
  description: "Empty all files under /var/log",
  enabledByDefault: true,
  async run({ fs, os }) {
    // Slackware keeps its package database in /var/log/packages.
    const keep = os.distro === "slackware" ? "/var/log/packages/" : undefined;
    const files = (await fs.walk("/var/log")).filter(
      (e) => e.type === "file" && e.size > 0 && !(keep && e.path.startsWith(keep)),
    );
    await fs.truncateFiles(files.map((f) => f.path));
    return outcome(
      files.length > 0 ? [`emptied ${files.length} files under /var/log`] : [],
      "no log file holds data",
    );
  },
});
