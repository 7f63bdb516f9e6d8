/** @module tasks/remove-swap-entry — drops swap lines from /etc/fstab (shrink removes a trailing swap partition). */
import { prepareTask } from "./types.ts";

export const removeSwapEntry = prepareTask({
  name: "remove-swap-entry",
  description: "Remove swap entries from /etc/fstab",
  enabledByDefault: true,
  async run({ fs }) {
    const fstab = await fs.readText("/etc/fstab");
    if (fstab === undefined) return { changes: [], skipped: "/etc/fstab is missing" };
    const removed: string[] = [];
    const kept = fstab.split("\n").filter((line) => {
      const entry = (line.split("#")[0] ?? "").trim().split(/\s+/);
      if (entry.length >= 3 && entry[2] === "swap") {
        removed.push(entry[0] as string);
        return false;
      }
      return true;
    });
    if (removed.length === 0) return { changes: [], skipped: "no swap entry in /etc/fstab" };
    await fs.writeFile("/etc/fstab", kept.join("\n"));
    return { changes: [`removed swap ${removed.join(" ")} from /etc/fstab`] };
  },
});
