/** @module tasks/empty-directories — tasks that remove every entry under some directories (/tmp, mailboxes). */
import type { Task } from "./types.ts";
import { outcome, prepareTask } from "./types.ts";

export interface EmptyDirectoriesSpec {
  name: string;
  description: string;
  enabledByDefault: boolean;
  dirs: readonly string[];
  /** Why nothing was done when every directory was already empty or missing. */
  skipped: string;
}

/** A prepare task that removes everything under `dirs`; a directory reached twice through links is cleaned once. */
export function emptyDirectoriesTask(spec: EmptyDirectoriesSpec): Task {
  const { name, description, enabledByDefault, dirs, skipped } = spec;
  return prepareTask({
    name,
    description,
    enabledByDefault,
    async run({ fs }) {
      const changes: string[] = [];
      const done = new Set<string>();
      for (const dir of dirs) {
        // On Debian /var/spool/mail is a link to ../mail: clean the real directory once.
        const real = await fs.realpath(dir);
        if (!real || done.has(real)) continue;
        done.add(real);
        const entries = (await fs.list(real)).map((e) => `${real}/${e.name}`);
        const n = await fs.removeTrees(entries);
        if (n > 0) changes.push(`removed ${n} entries under ${dir}`);
      }
      return outcome(changes, skipped);
    },
  });
}
