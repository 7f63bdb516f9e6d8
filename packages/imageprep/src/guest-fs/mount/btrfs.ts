/** @module guest-fs/mount/btrfs — finds which btrfs subvolume holds the guest's root: the default one, the top level, `@`, `root`… */
import { runTool } from "../../run-tool.ts";
import type { GuestFs } from "../contract.ts";

export interface Subvolume {
  id: number;
  /** Path from the top level, without a leading slash (`@`, `@/.snapshots/1/snapshot`). */
  path: string;
}

/** Parses `btrfs subvolume list` (`ID 256 gen 9 top level 5 path @`). */
export function parseSubvolumeList(text: string): Subvolume[] {
  const out: Subvolume[] = [];
  for (const line of text.split("\n")) {
    const m = /^ID (\d+) gen \d+ (?:cgen \d+ )?top level \d+ path (.+)$/.exec(line.trim());
    if (m) out.push({ id: Number(m[1]), path: (m[2] as string).replace(/^<FS_TREE>\//, "") });
  }
  return out;
}

/** Parses `btrfs subvolume get-default`: `ID 5 (FS_TREE)` is the top level (undefined). */
export function parseDefaultSubvolume(text: string): Subvolume | undefined {
  const m = /^ID (\d+) gen \d+ top level \d+ path (.+)$/.exec(text.trim());
  return m ? { id: Number(m[1]), path: m[2] as string } : undefined;
}

/** Names tried after the default subvolume and the top level, in this order (Ubuntu, Fedora, others). */
export const ROOT_SUBVOLUME_NAMES = ["@", "root", "@root", "@rootfs", "rootfs"];

/**
 * The subvolume holding the guest's `/` ("" = the top level), given the top level mounted as `top`:
 * the default subvolume when it has /etc/fstab (openSUSE boots a snapshot this way), then the top
 * level, then the usual names, then any subvolume with /etc/fstab. Undefined when none has one.
 */
export async function findRootSubvolume(top: GuestFs, mountpoint: string): Promise<string | undefined> {
  const list = parseSubvolumeList((await runTool("btrfs", ["subvolume", "list", mountpoint])).stdout);
  const dflt = parseDefaultSubvolume(
    (await runTool("btrfs", ["subvolume", "get-default", mountpoint])).stdout,
  );
  const candidates = [
    ...(dflt ? [dflt.path] : []),
    "",
    ...ROOT_SUBVOLUME_NAMES.filter((n) => list.some((s) => s.path === n)),
    ...list.map((s) => s.path),
  ];
  for (const c of [...new Set(candidates)]) {
    if (await top.isFile(c === "" ? "/etc/fstab" : `/${c}/etc/fstab`)) return c;
  }
  return undefined;
}
