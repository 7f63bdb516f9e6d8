/** @module tasks/remove-ssh-host-keys — removes the SSH host keys, so machines made from the image do not share them. */
import { outcome, prepareTask } from "./types.ts";

export const removeSshHostKeys = prepareTask({
  name: "remove-ssh-host-keys",
  description: "Remove the SSH host keys (first-boot-regenerate-ssh-host-keys makes new ones)",
  enabledByDefault: true,
  async run({ fs }) {
    const keys = (await fs.list("/etc/ssh"))
      .filter((e) => e.type !== "dir" && /^ssh_host_.*key(\.pub)?$/.test(e.name))
      .map((e) => `/etc/ssh/${e.name}`);
    await fs.removeTrees(keys);
    return outcome(keys.length > 0 ? [`removed ${keys.join(" ")}`] : [], "no SSH host keys found");
  },
});
