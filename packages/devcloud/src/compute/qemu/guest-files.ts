/** @module qemu/guest-files — snf-image's ChangePassword and EnforcePersonality, on the root filesystem through debugfs. */
import { type ExtFs, normalizeGuestPath, parsePasswd, runTool } from "@icaas/imageprep";
import type { PersonalityEntry } from "../driver.ts";

/** snf-image's mode for an injected file without one. */
const DEFAULT_MODE = 0o440;

/** SHA-512 crypt, as snf-image's `hashpwd.py -m sha512`; the password goes through stdin, never argv. */
export async function hashPassword(password: string): Promise<string> {
  const { stdout } = await runTool("openssl", ["passwd", "-6", "-stdin"], { input: `${password}\n` });
  return stdout.trim();
}

/**
 * Sets `password` for each user of `USERS` (default root) in `/etc/shadow`, as snf-image's linux
 * `change_shadow_entry` does. A user missing from shadow fails the deployment. Returns the users.
 */
export async function setPasswords(
  fs: ExtFs,
  usersProperty: string | undefined,
  password: string,
): Promise<string[]> {
  const users = (usersProperty ?? "").split(/\s+/).filter(Boolean);
  if (users.length === 0) users.push("root");
  const shadow = await fs.readText("/etc/shadow");
  if (shadow === undefined) throw new Error("No /etc/shadow found!");
  const hash = await hashPassword(password);
  const lines = shadow.split("\n");
  for (const user of users) {
    const i = lines.findIndex((l) => l.split(":")[0] === user);
    if (i < 0) throw new Error(`User: '${user}' does not exist (not present in /etc/shadow).`);
    lines[i] = `${user}:${hash}:15103:0:99999:7:::`;
  }
  // writeFile keeps the shadow file's inode, mode and owner.
  await fs.writeFile("/etc/shadow", lines.join("\n"));
  return users;
}

function groupIds(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name && gid !== undefined && /^\d+$/.test(gid)) ids.set(name, Number(gid));
  }
  return ids;
}

/**
 * Writes each personality file with its owner, group (names looked up in the guest's passwd and group;
 * default root) and mode (default 0440). Missing parent directories are made, root's, 0755. Returns a
 * line per file.
 */
export async function writePersonality(fs: ExtFs, files: readonly PersonalityEntry[]): Promise<string[]> {
  if (files.length === 0) return [];
  const [passwdText, groupText] = await fs.readTexts(["/etc/passwd", "/etc/group"]);
  const users = new Map(parsePasswd(passwdText ?? "").map((u) => [u.name, u]));
  const groups = groupIds(groupText ?? "");
  const lines: string[] = [];
  for (const file of files) {
    const path = normalizeGuestPath(file.path.startsWith("/") ? file.path : `/${file.path}`);
    const owner = file.owner ? users.get(file.owner) : undefined;
    if (file.owner && !owner) throw new Error(`personality ${path}: no user '${file.owner}' in the image`);
    const gid = file.group ? groups.get(file.group) : (owner?.gid ?? 0);
    if (gid === undefined) throw new Error(`personality ${path}: no group '${file.group}' in the image`);
    const uid = owner?.uid ?? 0;
    const mode = (file.mode ?? DEFAULT_MODE) & 0o7777;
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    if (!(await fs.isDir(parent))) await fs.mkdir(parent, { parents: true, mode: 0o755, uid: 0, gid: 0 });
    await fs.writeFile(path, Buffer.from(file.contents, "base64"), { mode, uid, gid });
    // A replaced file keeps its old owner and mode unless told otherwise: say it again.
    await fs.chown(path, uid, gid);
    await fs.chmod(path, mode);
    lines.push(`${path} ${uid}:${gid} ${mode.toString(8).padStart(4, "0")}`);
  }
  return lines;
}
