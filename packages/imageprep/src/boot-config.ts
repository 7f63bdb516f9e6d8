/** @module boot-config — edits boot loader files (GRUB 1/2, syslinux, /etc/default/grub) the way snf-image-creator does. */
import type { GuestFs } from "./guest-fs/contract.ts";

export const GRUB1_CONFIGS = ["/boot/grub/menu.lst", "/etc/grub.conf"];
export const GRUB2_CONFIGS = ["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"];
export const DEFAULT_GRUB = "/etc/default/grub";

/** Where syslinux/extlinux looks for its configuration, in its own search order. */
export const SYSLINUX_CONFIGS = [
  "/boot/extlinux/",
  "/boot/syslinux/",
  "/boot/",
  "/extlinux/",
  "/syslinux/",
  "/",
].flatMap((d) => [`${d}extlinux.conf`, `${d}syslinux.cfg`]);

const GRUB2_LINUX = /^(\s*linux(?:16|efi)?\s+.*)$/gm;
/** Boot Loader Specification entries (RHEL 8+, Fedora): the kernel command line is their `options` line. */
export const BLS_ENTRIES = "/boot/loader/entries";
const BLS_OPTIONS = /^(\s*options\s+.*)$/gm;
/** What kernel-install and grubby copy into new BLS entries (RHEL 9, Fedora). */
export const KERNEL_CMDLINE = "/etc/kernel/cmdline";
const WHOLE_LINE = /^(\S.*)$/gm;
const SYSLINUX_APPEND = /^(\s*append\s+.*)$/gim;

/**
 * Rewrites the kernel command line of every GRUB 2 `linux` line, syslinux `append` line, BLS entry
 * `options` line and /etc/kernel/cmdline with `edit`; returns the files that changed.
 */
export async function editKernelCommandLines(fs: GuestFs, edit: (line: string) => string): Promise<string[]> {
  const changed: string[] = [];
  const bls = (await fs.list(BLS_ENTRIES))
    .filter((e) => e.type === "file" && e.name.endsWith(".conf"))
    .map((e) => `${BLS_ENTRIES}/${e.name}`);
  const jobs: Array<[string[], RegExp]> = [
    [GRUB2_CONFIGS, GRUB2_LINUX],
    [SYSLINUX_CONFIGS, SYSLINUX_APPEND],
    [bls, BLS_OPTIONS],
    [[KERNEL_CMDLINE], WHOLE_LINE],
  ];
  for (const [paths, re] of jobs) {
    const texts = await fs.readTexts(paths);
    for (const [i, text] of texts.entries()) {
      if (text === undefined) continue;
      const next = text.replace(re, (line) => edit(line));
      if (next !== text) {
        await fs.writeFile(paths[i] as string, next);
        changed.push(paths[i] as string);
      }
    }
  }
  return changed;
}

export interface ShellVar {
  /** Line index of the last assignment (the one the shell keeps). */
  index: number;
  value: string;
  quote: '"' | "'" | "";
}

function unquote(raw: string): { value: string; quote: '"' | "'" | "" } {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"'))
    return { value: v.slice(1, -1).replace(/\\(["\\`$])/g, "$1"), quote: '"' };
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return { value: v.slice(1, -1), quote: "'" };
  return { value: v, quote: "" };
}

function quoteAs(value: string, quote: '"' | "'" | ""): string {
  if (quote === "'" && !value.includes("'")) return `'${value}'`;
  if (quote === "" && /^[A-Za-z0-9_./:,=+@%-]*$/.test(value)) return value;
  return `"${value.replace(/(["\\`$])/g, "\\$1")}"`;
}

/** Finds the last `NAME=value` assignment in a shell-style file such as /etc/default/grub. */
export function findShellVar(text: string, name: string): ShellVar | undefined {
  const lines = text.split("\n");
  let found: ShellVar | undefined;
  const re = new RegExp(`^\\s*(?:export\\s+)?${name}=(.*)$`);
  lines.forEach((line, index) => {
    const m = re.exec(line);
    if (m) found = { index, ...unquote(m[1] as string) };
  });
  return found;
}

/** Sets `NAME=value` (keeping the old quoting style), appending the line when it is missing. */
export function setShellVar(text: string, name: string, value: string): string {
  const found = findShellVar(text, name);
  const lines = text.split("\n");
  if (found) {
    lines[found.index] = `${name}=${quoteAs(value, found.quote)}`;
    return lines.join("\n");
  }
  const body = text.endsWith("\n") || text === "" ? text : `${text}\n`;
  return `${body}${name}=${quoteAs(value, '"')}\n`;
}
