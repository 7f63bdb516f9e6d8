/** @module testing/read-back — mounts partitions of an image read-only with losetup and mount, to check results independently of the code under test (only the loop attach/detach is shared). */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CleanupStack } from "../guest-fs/mount/cleanup.ts";
import { attachLoop } from "../guest-fs/mount/loop.ts";
import { runTool } from "../run-tool.ts";

export interface ReadBackPartition {
  offset: number;
  bytes: number;
  type: "xfs" | "btrfs" | "ext4";
  /** Extra mount options (`subvolid=5` to see every btrfs subvolume under the top level). */
  options?: string;
}

/** Runs `fn` with each partition mounted read-only (no log replay) on its own host directory. */
export async function withReadOnlyMounts<T>(
  image: string,
  parts: ReadBackPartition[],
  fn: (dirs: string[]) => Promise<T>,
): Promise<T> {
  const cleanup = new CleanupStack();
  try {
    const dirs: string[] = [];
    for (const p of parts) {
      const dev = await attachLoop(cleanup, image, p.offset, p.bytes, true);
      const dir = await mkdtemp(join(tmpdir(), "icaas-readback-"));
      cleanup.push(`remove ${dir}`, () => rmdir(dir));
      const opts = [
        "ro",
        p.type === "xfs" ? "norecovery,nouuid" : p.type === "btrfs" ? "rescue=nologreplay" : "noload",
      ];
      if (p.options) opts.push(p.options);
      await runTool("mount", ["-t", p.type, "-o", opts.join(","), dev, dir]);
      cleanup.push(`unmount ${dir}`, async () => {
        await runTool("umount", [dir]);
      });
      dirs.push(dir);
    }
    return await fn(dirs);
  } finally {
    await cleanup.unwind();
  }
}

/**
 * What a run left behind for `image`: its loop devices (`losetup -j`) and the mounts on them. A
 * mount holds its loop device, so a leaked mount always shows here too. Other images' mounts (tests
 * running beside this one) are not counted.
 */
export async function leftovers(image: string): Promise<string[]> {
  const loops = (await runTool("losetup", ["-j", image])).stdout.split("\n").filter(Boolean);
  const devices = loops.map((l) => l.split(":")[0] as string);
  const mounts = (await readFile("/proc/mounts", "utf8"))
    .split("\n")
    .filter((l) => devices.includes(l.split(" ")[0] as string));
  return [...loops, ...mounts];
}

/** `xfs_repair -n` or `btrfs check --readonly` on a read-only loop device over the partition; returns their complaint, or "" when clean. */
export async function checkFilesystem(
  image: string,
  p: { offset: number; bytes: number },
  type: "xfs" | "btrfs",
): Promise<string> {
  const cleanup = new CleanupStack();
  const dev = await attachLoop(cleanup, image, p.offset, p.bytes, true);
  try {
    const [tool, args] =
      type === "xfs" ? ["xfs_repair", ["-n", dev]] : ["btrfs", ["check", "--readonly", dev]];
    const r = await runTool(tool, args as string[], { okCodes: [0, 1] });
    return r.code === 0 ? "" : `${r.stdout}${r.stderr}`;
  } finally {
    await cleanup.unwind();
  }
}

/** `e2fsck -fn` of the ext filesystem at `offset` finds nothing to fix. */
export async function assertExtClean(image: string, offset: number): Promise<void> {
  const r = await runTool("e2fsck", ["-fn", `${image}?offset=${offset}`], { okCodes: [0, 1, 2, 4, 8] });
  assert.equal(r.code, 0, `e2fsck -fn found problems:\n${r.stdout}${r.stderr}`);
}

/** `sfdisk -V` (and for GPT `sgdisk -v`) find nothing wrong with the partition table. */
export async function assertTableClean(image: string, label: "dos" | "gpt" = "dos"): Promise<void> {
  const v = await runTool("sfdisk", ["-V", image], { okCodes: [0, 1] });
  assert.equal(v.code, 0, `sfdisk -V: ${v.stdout}${v.stderr}`);
  assert.match(v.stdout, /No errors detected/);
  if (label === "gpt") {
    const g = await runTool("sgdisk", ["-v", image], { okCodes: [0, 1, 2, 3, 4] });
    assert.match(g.stdout, /No problems found/, g.stdout);
  }
}
