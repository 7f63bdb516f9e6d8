/** @module tasks/cleanup-passwords — locks every account in /etc/shadow and removes /etc/shadow-. */
import { lockShadow } from "../users.ts";
import { outcome, prepareTask } from "./types.ts";

export const cleanupPasswords = prepareTask({
  name: "cleanup-passwords",
  description: "Remove all passwords and lock all user accounts",
  enabledByDefault: true,
  async run({ fs }) {
    const changes: string[] = [];
    const shadow = await fs.readText("/etc/shadow");
    if (shadow !== undefined) {
      const { text, locked } = lockShadow(shadow);
      if (locked.length > 0) {
        await fs.writeFile("/etc/shadow", text);
        changes.push(`locked ${locked.join(" ")}`);
      }
    }
    // The backup holds the old hashes.
    if (await fs.remove("/etc/shadow-")) changes.push("removed /etc/shadow-");
    return outcome(
      changes,
      shadow === undefined ? "/etc/shadow is missing" : "all accounts were already locked",
    );
  },
});
