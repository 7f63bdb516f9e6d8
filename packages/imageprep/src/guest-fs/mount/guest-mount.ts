/**
 * @module guest-fs/mount/guest-mount — mounts a guest's root (and the other filesystems its fstab
 * names on the same disk) read-write through loop devices, and always unmounts and detaches again.
 */
import { mkdir, mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagePrepError } from "../../errors.ts";
import type { FilesystemType } from "../../fs-probe.ts";
import { type FstabEntry, optionValue, parseFstab, specNames } from "../../fstab.ts";
import { runTool } from "../../run-tool.ts";
import { CleanupStack } from "./cleanup.ts";
import { HostDirFs } from "./host-dir-fs.ts";
import { attachLoop } from "./loop.ts";

/** Filesystems the kernel here mounts read-write (vfat, ntfs and others are left unmounted). */
export const MOUNTABLE: readonly FilesystemType[] = ["ext2", "ext3", "ext4", "xfs", "btrfs"];

/** A partition (or LVM volume) to mount: where its bytes are and what they hold. */
export interface MountSource {
  number: number;
  offset: number;
  bytes: number;
  filesystem: { type: FilesystemType; uuid?: string; label?: string };
  /** GPT partition GUID (fstab `PARTUUID=`). */
  uuid?: string;
  /** A block device that already holds it (an activated LVM volume): no loop device is attached. */
  device?: string;
  /** An LVM logical volume (then `number` is its physical volume's partition). */
  lvm?: { vg: string; lv: string };
}

export interface GuestMountOptions {
  readOnly?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * `mount -o` options: never honour the guest's device nodes or set-uid bits; XFS `nouuid`, because a
 * cloned image shares its UUID with its source; read-only mounts replay no journal or log (the image
 * must stay byte-for-byte as it was).
 */
export function mountOptions(type: FilesystemType, readOnly: boolean, subvolume?: string): string {
  const o = ["nodev", "nosuid", "noexec"];
  if (readOnly) o.push("ro");
  if (type === "xfs") o.push("nouuid", ...(readOnly ? ["norecovery"] : []));
  if (type === "ext3" || type === "ext4") o.push(...(readOnly ? ["noload"] : []));
  if (type === "btrfs") {
    if (readOnly) o.push("rescue=nologreplay");
    o.push(subvolume === undefined || subvolume === "" ? "subvolid=5" : `subvol=/${subvolume}`);
  }
  return o.join(",");
}

/** `umount`, retried while the kernel still calls the mount busy (a just-closed file). */
async function unmount(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await runTool("umount", [dir]);
      return;
    } catch (e) {
      if (attempt >= 10 || !/busy/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}

/** A mount of one filesystem, as made by {@link GuestMount.mount}. */
export interface MountedFs {
  source: MountSource;
  device: string;
  dir: string;
  type: FilesystemType;
  /** The guest path it serves ("/" for the root). */
  guestPath: string;
}

/**
 * Host state for one guest: a private temporary directory, its loop devices and mounts. Everything
 * it makes is undone by {@link close}, in reverse order, also after a failure.
 */
export class GuestMount {
  readonly cleanup = new CleanupStack();
  readonly mounts: MountedFs[] = [];
  /** Loop devices by `offset:bytes`: one per partition or volume, shared by its subvolume mounts. */
  private readonly devices = new Map<string, string>();
  private tmp = "";
  readonly image: string;
  readonly options: GuestMountOptions;

  constructor(image: string, options: GuestMountOptions) {
    this.image = image;
    this.options = options;
  }

  /** A new empty directory under this mount's private temporary directory. */
  async newDir(name: string): Promise<string> {
    if (!this.tmp) {
      this.tmp = await mkdtemp(join(tmpdir(), "icaas-guest-"));
      const tmp = this.tmp;
      // rmdir, never rm -r: if an unmount failed, the guest's files must not be deleted through it.
      this.cleanup.push(`remove ${tmp}`, () => rmdir(tmp));
    }
    const dir = join(this.tmp, name);
    await mkdir(dir);
    this.cleanup.push(`remove ${dir}`, () => rmdir(dir));
    return dir;
  }

  /** The block device of a source: its LVM volume, or a loop device over its bytes (one per partition). */
  async device(src: MountSource): Promise<string> {
    if (src.device) return src.device;
    const key = `${src.offset}:${src.bytes}`;
    const known = this.devices.get(key);
    if (known) return known;
    this.options.signal?.throwIfAborted();
    const dev = await attachLoop(
      this.cleanup,
      this.image,
      src.offset,
      src.bytes,
      this.options.readOnly === true,
    );
    this.devices.set(key, dev);
    return dev;
  }

  /** Mounts `src` (a btrfs `subvolume` of it) on host directory `dir`; returns the unmount handle. */
  async mount(
    src: MountSource,
    dir: string,
    guestPath: string,
    subvolume?: string,
  ): Promise<{ release: () => Promise<void> }> {
    const device = await this.device(src);
    const type = src.filesystem.type;
    this.options.signal?.throwIfAborted();
    // Not given the signal: a mount killed half-way could be made and never undone.
    await runTool("mount", [
      "-t",
      type,
      "-o",
      mountOptions(type, this.options.readOnly === true, subvolume),
      device,
      dir,
    ]);
    const entry: MountedFs = { source: src, device, dir, type, guestPath };
    this.mounts.push(entry);
    this.options.log?.(
      `mounted partition ${src.number} (${type}${subvolume ? `, subvolume ${subvolume}` : ""}) at guest ${guestPath}`,
    );
    return this.cleanup.push(`unmount ${dir}`, async () => {
      await unmount(dir);
      this.mounts.splice(this.mounts.indexOf(entry), 1);
    });
  }

  /**
   * `fstrim` on each mounted filesystem: the loop device turns every discard into a hole in the
   * image, so deleted files' blocks (keys, histories, logs) are gone from it and not uploaded.
   */
  async trim(): Promise<Array<{ guestPath: string; bytes: number }>> {
    const seen = new Set<string>();
    const out: Array<{ guestPath: string; bytes: number }> = [];
    for (const m of this.mounts) {
      if (seen.has(m.device)) continue;
      seen.add(m.device);
      // Commit first: XFS does not trim extents freed by transactions still in memory ("busy").
      await runTool("sync", ["-f", m.dir]);
      if (m.type === "btrfs") await runTool("btrfs", ["filesystem", "sync", m.dir]);
      const r = await runTool("fstrim", ["-v", m.dir]);
      const bytes = Number(/\((\d+) bytes\)/.exec(r.stdout)?.[1] ?? 0);
      out.push({ guestPath: m.guestPath, bytes });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.cleanup.unwind();
  }
}

/** The guest root to mount: its partition, and for btrfs the subvolume that holds `/`. */
export interface GuestRoot extends MountSource {
  /** btrfs: the root's subvolume ("" = the top level). */
  subvolume?: string;
  /**
   * The guest's fstab mounts other filesystems of this disk (an ext root with /boot apart, as on LVM
   * layouts): only the mount backend shows the guest's whole tree, so it is used even for ext.
   */
  mountsOthers?: boolean;
}

/** An fstab line that mounts a filesystem of this disk other than the root, and what it mounts. */
export interface FstabMount {
  entry: FstabEntry;
  source: MountSource;
  /** btrfs: the `subvol=` it names ("" = the top level). */
  subvolume?: string;
}

/**
 * The fstab lines (of `fstabText`) that mount another filesystem of this disk than the root (a separate
 * /boot, btrfs subvolumes such as /home or openSUSE's /var), shallowest first: what a guest tree must
 * show besides its root.
 */
export function fstabMounts(fstabText: string, root: GuestRoot, partitions: MountSource[]): FstabMount[] {
  const out: FstabMount[] = [];
  const entries = parseFstab(fstabText)
    .filter(
      (e) => e.file !== "/" && e.file.startsWith("/") && MOUNTABLE.includes(e.vfstype as FilesystemType),
    )
    .sort((a, b) => a.file.split("/").length - b.file.split("/").length);
  for (const e of entries) {
    const src = [root, ...partitions].find((p) =>
      specNames(e.spec, {
        // /dev/sdaN names the partition, never a volume inside it.
        number: p.lvm ? -1 : p.number,
        lvm: p.lvm,
        uuid: p.filesystem.uuid,
        label: p.filesystem.label,
        partuuid: p.uuid,
      }),
    );
    if (!src || !MOUNTABLE.includes(src.filesystem.type)) continue;
    // The same filesystem as the root without a subvolume would mount the root again over itself.
    if (src.offset === root.offset && src.filesystem.type !== "btrfs") continue;
    const mount: FstabMount = { entry: e, source: src };
    if (src.filesystem.type === "btrfs")
      mount.subvolume = optionValue(e.options, "subvol")?.replace(/^\//, "") ?? "";
    out.push(mount);
  }
  return out;
}

/**
 * Mounts the root, then every filesystem the guest's fstab mounts from this disk (a separate /boot,
 * btrfs subvolumes such as /home or openSUSE's /var), each under its guest path resolved inside the
 * guest. Returns the guest tree as a {@link GuestFs} and the {@link GuestMount} to trim and close.
 */
export async function mountGuest(
  image: string,
  root: GuestRoot,
  partitions: MountSource[],
  options: GuestMountOptions = {},
): Promise<{ fs: HostDirFs; mount: GuestMount }> {
  const mount = new GuestMount(image, options);
  try {
    const dir = await mount.newDir("root");
    await mount.mount(root, dir, "/", root.subvolume);
    const fs = new HostDirFs(dir, image, root.offset);
    for (const { entry: e, source: src, subvolume: subvol } of fstabMounts(
      (await fs.readText("/etc/fstab")) ?? "",
      root,
      partitions,
    )) {
      const at = await fs.realpath(e.file);
      if (!at || !(await fs.isDir(at))) {
        options.log?.(
          `fstab mounts ${e.spec} at ${e.file}, which is not a directory in the guest; left unmounted`,
        );
        continue;
      }
      await mount.mount(src, join(dir, at), at, subvol);
    }
    return { fs, mount };
  } catch (e) {
    await mount.close().catch((c: unknown) => options.log?.(`${(c as Error).message}`));
    throw e;
  }
}

/** Runs `fn` on the mounted guest, then unmounts and detaches everything, whether `fn` failed or not. */
export async function withMountedGuest<T>(
  image: string,
  root: GuestRoot,
  partitions: MountSource[],
  options: GuestMountOptions,
  fn: (fs: HostDirFs, mount: GuestMount) => Promise<T>,
): Promise<T> {
  const { fs, mount } = await mountGuest(image, root, partitions, options);
  let result: T;
  try {
    result = await fn(fs, mount);
  } catch (e) {
    await mount.close().catch((c: unknown) => options.log?.(`${(c as Error).message}`));
    throw e;
  }
  await mount.close().catch((c: unknown) => {
    throw new ImagePrepError("tool_failed", `could not release the guest's mounts: ${(c as Error).message}`);
  });
  return result;
}
