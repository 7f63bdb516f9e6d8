/** @module guest-fs/mount/loop — one loop device per partition (`losetup -o OFFSET --sizelimit SIZE`; `-P` makes no partition nodes here). */
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

/** `losetup -d`, retried briefly: the kernel may still hold the device for a moment after umount. */
export async function detachLoop(device: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await runTool("losetup", ["-d", device]);
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
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
