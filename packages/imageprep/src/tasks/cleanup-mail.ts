/** @module tasks/cleanup-mail — removes local mailboxes (off by default). */
import { emptyDirectoriesTask } from "./empty-directories.ts";

export const cleanupMail = emptyDirectoriesTask({
  name: "cleanup-mail",
  description: "Remove all files under /var/mail and /var/spool/mail",
  enabledByDefault: false,
  dirs: ["/var/spool/mail", "/var/mail"],
  skipped: "no mail found",
});
