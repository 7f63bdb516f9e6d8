/** @module testing/build-fs — makes real XFS and btrfs filesystems (subvolumes too) in a partition of a disk image, filled from a host tree. */
import { mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GuestMount } from "../guest-fs/mount/guest-mount.ts";
import { runTool } from "../run-tool.ts";

export interface FsBuild {
  type: "xfs" | "btrfs";
  /** Host directory copied in (`cp -a`: owners, modes and links kept). */
  tree?: string;
  uuid?: string;
  label?: string;
  /**
   * btrfs: subvolumes to create in order (paths from the top level; parents are made), each with the
   * directory of `tree` it receives, if any (`[{ name: "@", from: "/" }, { name: "@home", from: "/home" }]`:
   * `/home` goes to `@home`, the rest to `@`).
   */
  subvolumes?: Array<{ name: string; from?: string }>;
  /** btrfs: the subvolume made the default (as openSUSE does with its root snapshot). */
  defaultSubvolume?: string;
}

/** Copies the entries of `from` into `to`, leaving out the names in `skip`. */
async function copyInto(from: string, to: string, skip: string[] = []): Promise<void> {
  for (const name of await readdir(from)) {
    if (skip.includes(name)) continue;
    // cp -a, not node's cp: owners must survive.
    await runTool("cp", ["-a", "--", join(from, name), join(to, name)]);
  }
}

/**
 * Formats `[offset, offset+bytes)` of `image` and fills it through a kernel mount (a loop device,
 * unmounted and detached before returning). XFS smaller than the 300 MB mkfs.xfs wants is made with
 * `--unsupported`, which the kernel mounts all the same.
 */
export async function buildFilesystem(
  image: string,
  offset: number,
  bytes: number,
  spec: FsBuild,
): Promise<void> {
  const m = new GuestMount(image, {});
  try {
    const src = { number: 1, offset, bytes, filesystem: { type: spec.type } };
    const dev = await m.device(src);
    if (spec.type === "xfs") {
      const args = ["-q", "-f", "-K"];
      if (bytes < 300 * 1024 * 1024) args.push("--unsupported");
      if (spec.uuid) args.push("-m", `uuid=${spec.uuid}`);
      if (spec.label) args.push("-L", spec.label);
      await runTool("mkfs.xfs", [...args, dev]);
    } else {
      const args = ["-q", "-f", "-K"];
      if (spec.uuid) args.push("-U", spec.uuid);
      if (spec.label) args.push("-L", spec.label);
      await runTool("mkfs.btrfs", [...args, dev]);
    }
    if (!spec.tree) return;
    const top = await m.newDir("top");
    await m.mount(src, top, "/");
    if (spec.type === "btrfs" && spec.subvolumes) {
      const elsewhere = spec.subvolumes
        .map((s) => s.from)
        .filter((d): d is string => d !== undefined && d !== "/")
        .map((d) => d.replace(/^\//, ""));
      for (const { name, from } of spec.subvolumes) {
        await mkdir(dirname(join(top, name)), { recursive: true });
        await runTool("btrfs", ["subvolume", "create", join(top, name)]);
        if (from === "/") {
          await copyInto(spec.tree, join(top, name), elsewhere);
          // The other subvolumes are mounted on these at boot.
          for (const d of elsewhere) await mkdir(join(top, name, d), { recursive: true });
        } else if (from) await copyInto(join(spec.tree, from), join(top, name));
      }
      if (spec.defaultSubvolume)
        await runTool("btrfs", ["subvolume", "set-default", join(top, spec.defaultSubvolume)]);
    } else {
      await copyInto(spec.tree, top);
    }
  } finally {
    await m.close();
  }
}
