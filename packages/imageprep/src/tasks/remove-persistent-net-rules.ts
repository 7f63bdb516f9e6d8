/** @module tasks/remove-persistent-net-rules — drops udev's saved interface names so a new NIC becomes eth0. */
import { prepareTask } from "./types.ts";

const RULES = "/etc/udev/rules.d/70-persistent-net.rules";

export const removePersistentNetRules = prepareTask({
  name: "remove-persistent-net-rules",
  description: "Remove udev rules that keep network interface names persistent",
  enabledByDefault: true,
  async run({ fs }) {
    if (!(await fs.isFile(RULES))) return { changes: [], skipped: `${RULES} does not exist` };
    await fs.remove(RULES);
    return { changes: [`removed ${RULES}`] };
  },
});
