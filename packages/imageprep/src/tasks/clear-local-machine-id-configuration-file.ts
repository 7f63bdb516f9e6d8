/** @module tasks/clear-local-machine-id-configuration-file — empties /etc/machine-id so each machine makes its own. */
import { outcome, prepareTask } from "./types.ts";

export const clearLocalMachineIdConfigurationFile = prepareTask({
  name: "clear-local-machine-id-configuration-file",
  description: "Empty /etc/machine-id and /var/lib/dbus/machine-id (regenerated at next boot)",
  enabledByDefault: true,
  async run({ fs }) {
    const changes: string[] = [];
    for (const path of ["/etc/machine-id", "/var/lib/dbus/machine-id"]) {
      const st = await fs.stat(path);
      if (st?.type !== "file" || st.size === 0) continue;
      await fs.truncate(path);
      changes.push(`emptied ${path}`);
    }
    return outcome(changes, "no machine id found");
  },
});
