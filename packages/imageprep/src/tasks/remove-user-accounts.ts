/** @module tasks/remove-user-accounts — deletes accounts with a uid above 1000 and their homes (off by default). */
import { parsePasswd } from "../users.ts";
import { outcome, prepareTask } from "./types.ts";

function withoutNames(text: string, names: Set<string>): string {
  return text
    .split("\n")
    .filter((line) => !names.has(line.split(":")[0] ?? ""))
    .join("\n");
}

export const removeUserAccounts = prepareTask({
  name: "remove-user-accounts",
  description: "Remove all user accounts with id greater than 1000",
  enabledByDefault: false,
  async run({ fs, metadata }) {
    const passwd = await fs.readText("/etc/passwd");
    if (passwd === undefined) return { changes: [], skipped: "/etc/passwd is missing" };
    const removed = parsePasswd(passwd).filter((p) => p.uid > 1000);
    if (removed.length === 0) return { changes: [], skipped: "no account has a uid above 1000" };
    const names = new Set(removed.map((p) => p.name));
    const changes: string[] = [];
    await fs.writeFile("/etc/passwd", withoutNames(passwd, names));
    changes.push(`removed ${[...names].join(" ")} from /etc/passwd`);
    for (const file of ["/etc/shadow", "/etc/group", "/etc/gshadow"]) {
      const text = await fs.readText(file);
      if (text === undefined) continue;
      // In /etc/group this drops the users' own groups, as snf-image-creator does.
      const next = withoutNames(text, names);
      if (next !== text) {
        await fs.writeFile(file, next);
        changes.push(`updated ${file}`);
      }
    }
    const homes = removed.map((p) => p.home).filter((h) => h.startsWith("/home/"));
    for (const h of homes) if (await fs.isDir(h)) changes.push(`removed ${h}`);
    await fs.removeTrees(homes);
    if (metadata.USERS !== undefined) {
      const left = metadata.USERS.split(" ").filter((u) => u && !names.has(u));
      if (left.length > 0) metadata.USERS = left.join(" ");
      else delete metadata.USERS;
    }
    return outcome(changes, "nothing to remove");
  },
});
