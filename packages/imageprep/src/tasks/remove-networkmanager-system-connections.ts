/** @module tasks/remove-networkmanager-system-connections — removes saved NetworkManager connections (and their secrets). */
import { outcome, prepareTask } from "./types.ts";

const DIR = "/etc/NetworkManager/system-connections";

export const removeNetworkmanagerSystemConnections = prepareTask({
  name: "remove-networkmanager-system-connections",
  description: "Remove files under /etc/NetworkManager/system-connections",
  enabledByDefault: true,
  async run({ fs }) {
    const files = (await fs.list(DIR)).filter((e) => e.type === "file").map((e) => `${DIR}/${e.name}`);
    await fs.removeTrees(files);
    return outcome(files.length > 0 ? [`removed ${files.length} connections`] : [], "no saved connections");
  },
});
