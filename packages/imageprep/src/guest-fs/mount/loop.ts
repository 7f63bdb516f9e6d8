/** @module guest-fs/mount/loop — one loop device per partition (`losetup -o OFFSET --sizelimit SIZE`; `-P` makes no partition nodes here). */
import { access } from "node:fs/promises";
import { basename } from "node:path";
import { ImagePrepError } from "../../errors.ts";
import { runTool } from "../../run-tool.ts";
import type { CleanupStack } from "./cleanup.ts";

/** The arguments that attach `[offset, offset+bytes)` of `image` to the first free loop device. */
export function losetupAttachArgs(image: string, offset: number, bytes: number, readOnly: boolean): string[] {
  const args = ["--find", "--show", "--offset", String(offset), "--sizelimit", String(bytes)];
  if (readOnly) args.push("--read-only");
  args.push(image);
  return args;
}

/**
 * Attaches a partition of `image` to a loop device and registers its detach on `cleanup`. losetup
 * is not given the AbortSignal: killed half-way it could attach a device whose name we never learn.
 */
export async function attachLoop(
  cleanup: CleanupStack,
  image: string,
  offset: number,
  bytes: number,
  readOnly: boolean,
): Promise<string> {
  const r = await runTool("losetup", losetupAttachArgs(image, offset, bytes, readOnly));
  const device = r.stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(device)) {
    throw new ImagePrepError("tool_failed", `losetup printed no loop device: ${r.stdout}${r.stderr}`, {
      tool: "losetup",
    });
  }
  cleanup.push(`detach ${device}`, () => detachLoop(device));
  return device;
}

/**
 * `losetup -d`, then waits until the device is really gone: while another opener (udev's blkid
 * probe of a new device) still holds it, the kernel only marks it for autoclear and losetup returns
 * at once. Retried briefly, then reported.
 */
export async function detachLoop(device: string): Promise<void> {
  const backing = `/sys/block/${basename(device)}/loop/backing_file`;
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt === 0 || (await exists(backing))) await runTool("losetup", ["-d", device]);
    } catch (e) {
      if (attempt >= 50) throw e;
    }
    if (!(await exists(backing))) return;
    if (attempt >= 50)
      throw new ImagePrepError("tool_failed", `${device} is still attached after losetup -d`, {
        tool: "losetup",
      });
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The loop devices backed by `image` (`losetup -j`), for checks that nothing was left attached. */
export async function loopsOf(image: string): Promise<string[]> {
  const r = await runTool("losetup", ["-j", image]);
  return r.stdout
    .split("\n")
    .map((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1])
    .filter((d): d is string => d !== undefined);
}
