/** @module tasks/cleanup-tmp — removes everything under /tmp and /var/tmp. */
import { emptyDirectoriesTask } from "./empty-directories.ts";

export const cleanupTmp = emptyDirectoriesTask({
  name: "cleanup-tmp",
  description: "Remove all files and directories under /tmp and /var/tmp",
  enabledByDefault: true,
  dirs: ["/tmp", "/var/tmp"],
  skipped: "/tmp and /var/tmp are empty",
});
