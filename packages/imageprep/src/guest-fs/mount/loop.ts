/** @module guest-fs/mount/loop — one loop device per partition (`losetup -o OFFSET --sizelimit SIZE`; `-P` makes no partition nodes here). */
import { readFile, realpath } from "node:fs/promises";
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
  const attached = { device, backingFile: await realpath(image), offset };
  cleanup.push(`detach ${device}`, () => detachLoop(attached));
  return device;
}

/** A loop device as we attached it: the name alone is not enough, the kernel reuses it. */
export interface AttachedLoop {
  device: string;
  /** The backing file's real path, as the kernel reports it. */
  backingFile: string;
  offset: number;
}

/**
 * `losetup -d`, then waits until our attachment is really gone: while another opener still holds the
 * device, the kernel only marks it for autoclear and losetup returns at once. Once freed, the same
 * name may be attached again at once by another process, so every later look (and any repeated
 * `losetup -d`) first checks that the device still holds our file at our offset: detaching by name
 * alone once took another process's loop device away ("too small" in its pvcreate) and then
 * reported ours "still attached".
 */
export async function detachLoop(loop: AttachedLoop, waitMs = 30_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!(await stillOurs(loop))) return;
    try {
      await runTool("losetup", ["-d", loop.device]);
    } catch (e) {
      if (!(await stillOurs(loop))) return;
      if (Date.now() > deadline) throw e;
    }
    if (!(await stillOurs(loop))) return;
    if (Date.now() > deadline)
      throw new ImagePrepError("tool_failed", `${loop.device} is still attached after losetup -d`, {
        tool: "losetup",
      });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `loop.device` is still attached to our file at our offset (not detached, not reused). */
async function stillOurs(loop: AttachedLoop): Promise<boolean> {
  const sys = `/sys/block/${basename(loop.device)}/loop`;
  const backing = await readFile(`${sys}/backing_file`, "utf8").catch(() => undefined);
  if (backing === undefined) return false;
  const offset = await readFile(`${sys}/offset`, "utf8").catch(() => undefined);
  return backing.trim().replace(/ \(deleted\)$/, "") === loop.backingFile && Number(offset) === loop.offset;
}

/** The loop devices backed by `image` (`losetup -j`), for checks that nothing was left attached. */
export async function loopsOf(image: string): Promise<string[]> {
  const r = await runTool("losetup", ["-j", image]);
  return r.stdout
    .split("\n")
    .map((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1])
    .filter((d): d is string => d !== undefined);
}
