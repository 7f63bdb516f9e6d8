/** @module selinux — schedules a full relabel at next boot when the guest runs SELinux, since offline edits carry no labels. */

import { parseKeyValue } from "./distro.ts";
import type { GuestFs } from "./guest-fs/contract.ts";

export const SELINUX_CONFIG = "/etc/selinux/config";
export const AUTORELABEL = "/.autorelabel";

/** `SELINUX=` of /etc/selinux/config: `enforcing`, `permissive` or `disabled`; undefined without the file. */
export async function selinuxMode(fs: GuestFs): Promise<string | undefined> {
  const text = await fs.readText(SELINUX_CONFIG);
  if (text === undefined) return undefined;
  return (parseKeyValue(text).SELINUX ?? "").toLowerCase() || undefined;
}

/**
 * Creates `/.autorelabel` when SELinux is enforcing or permissive: files the tasks created (the
 * first-boot script and unit, new configuration) have no label, and an enforcing guest would refuse
 * to run them. The relabel runs once, early in the first boot, and removes the file. Returns the log
 * line, or undefined when SELinux is off or absent.
 */
export async function scheduleRelabel(fs: GuestFs): Promise<string | undefined> {
  const mode = await selinuxMode(fs);
  if (mode !== "enforcing" && mode !== "permissive") return undefined;
  if (!(await fs.lstat(AUTORELABEL))) await fs.writeFile(AUTORELABEL, "", { mode: 0o644, uid: 0, gid: 0 });
  return `SELinux is ${mode}: ${AUTORELABEL} makes the first boot relabel the files edited offline`;
}
