/** @module tasks/cleanup-mail — removes local mailboxes (off by default). */
import type { Task } from "./types.ts";
import { outcome } from "./types.ts";

export const cleanupMail: Task = {
  name: "cleanup-mail",
  description: "Remove all files under /var/mail and /var/spool/mail",
  enabledByDefault: false,
  stage: "prepare",
  async run({ fs }) {
    const changes: string[] = [];
    const done = new Set<string>();
    for (const dir of ["/var/spool/mail", "/var/mail"]) {
      // On Debian /var/spool/mail is a link to ../mail: clean the real directory once.
      const real = await fs.realpath(dir);
      if (!real || done.has(real)) continue;
      done.add(real);
      const entries = (await fs.list(real)).map((e) => `${real}/${e.name}`);
      const n = await fs.removeTrees(entries);
      if (n > 0) changes.push(`removed ${n} entries under ${dir}`);
    }
    return outcome(changes, "no mail found");
  },
};
