/**
 * @module guest-fs/open — picks the backend for a guest root and runs code on it: debugfs for an ext
 * root (no mount, fastest), a kernel mount through loop devices for XFS and btrfs.
 */
import { isExt } from "../fs-probe.ts";
import type { GuestFs } from "./contract.ts";
import { withExtFs } from "./debugfs/debugfs-fs.ts";
import { GuestMount, type GuestRoot, type MountSource, withMountedGuest } from "./mount/guest-mount.ts";

export type Backend = "debugfs" | "mount";

/**
 * debugfs where it works (an ext root whose fstab mounts nothing else of the disk), the mount backend
 * for everything else.
 */
export function backendFor(root: Pick<GuestRoot, "filesystem" | "device" | "mountsOthers">): Backend {
  return isExt(root.filesystem.type) && root.device === undefined && !root.mountsOthers ? "debugfs" : "mount";
}

export interface OpenGuestOptions {
  readOnly?: boolean;
  /**
   * Mount backend: after `fn`, discard the free space of every mounted filesystem (fstrim through the
   * loop device punches holes in the image); btrfs gets a second pass after a remount, because the
   * leaves a deletion rewrote are only freed by the final commit at unmount.
   */
  discard?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * Runs `fn` on the guest root with the backend {@link backendFor} picks; every mount and loop device
 * is released before this returns or throws.
 */
export async function withGuestFs<T>(
  image: string,
  root: GuestRoot,
  partitions: MountSource[],
  options: OpenGuestOptions,
  fn: (fs: GuestFs) => Promise<T>,
): Promise<T> {
  if (backendFor(root) === "debugfs") return withExtFs(image, root.offset, fn);
  const log = options.log ?? (() => undefined);
  const again = new Set<MountSource>();
  const result = await withMountedGuest(image, root, partitions, options, async (fs, mount) => {
    const r = await fn(fs);
    if (options.discard && !options.readOnly) {
      for (const t of await mount.trim())
        log(`${t.guestPath}: free space discarded (fstrim: ${t.bytes} bytes)`);
      for (const m of mount.mounts) if (m.type === "btrfs") again.add(m.source);
    }
    return r;
  });
  for (const src of again) {
    const m = new GuestMount(image, options);
    try {
      await m.mount(src, await m.newDir("trim"), "/");
      for (const t of await m.trim())
        log(`btrfs partition ${src.number}: discarded again after unmount (${t.bytes} bytes)`);
    } finally {
      await m.close();
    }
  }
  return result;
}
