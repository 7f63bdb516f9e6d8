/** @module shrink-btrfs — shrinks a btrfs filesystem in place, on its mount (`btrfs filesystem resize`), to its minimum device size plus slack. */
import { GuestMount } from "./guest-fs/mount/guest-mount.ts";
import type { Partition } from "./partitions.ts";
import { runTool } from "./run-tool.ts";

const MiB = 1 << 20;
/** The kernel refuses to resize a btrfs device below this (EINVAL from BTRFS_IOC_RESIZE). */
export const BTRFS_MIN_RESIZE = 256 * MiB;

/** Parses `btrfs inspect-internal min-dev-size` (`123731968 bytes (118.00MiB)`). */
export function parseMinDevSize(text: string): number | undefined {
  const m = /^(\d+) bytes/m.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * Mounts the partition's top level read-write through a loop device, asks btrfs the smallest size
 * its device can have, and resizes to that plus `extra` bytes (rounded up to a MiB, never below the
 * kernel's 256 MiB floor nor above the partition). btrfs relocates the chunks beyond the new end itself. Returns the new size in bytes.
 */
export async function shrinkBtrfs(
  image: string,
  p: Partition,
  extra: number,
  options: { signal?: AbortSignal; log?: (line: string) => void },
): Promise<number> {
  const mount = new GuestMount(image, { signal: options.signal });
  try {
    const dir = await mount.newDir("shrink");
    await mount.mount({ ...p, filesystem: { type: "btrfs" } }, dir, "/");
    const minText = (await runTool("btrfs", ["inspect-internal", "min-dev-size", dir])).stdout;
    const min = parseMinDevSize(minText);
    if (min === undefined) throw new Error(`btrfs printed no minimum device size: ${minText}`);
    let target = Math.min(p.bytes, Math.max(BTRFS_MIN_RESIZE, Math.ceil((min + extra) / MiB) * MiB));
    // min-dev-size is an estimate; a refused resize is tried again with more room.
    for (;;) {
      if (target >= p.bytes) return p.bytes;
      options.signal?.throwIfAborted();
      try {
        await runTool("btrfs", ["filesystem", "resize", String(target), dir]);
        break;
      } catch (e) {
        options.log?.(
          `shrink: btrfs refused ${target} bytes (${(e as Error).message.split("\n")[0]}); trying 64 MiB more`,
        );
        target += 64 * MiB;
      }
    }
    options.log?.(`shrink: btrfs partition ${p.number}: ${p.bytes} → ${target} bytes (minimum ${min})`);
    return target;
  } finally {
    await mount.close();
  }
}
