/** @module loop.test — detaching a loop device never takes away a device another process attached under the same name. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runTool } from "../../run-tool.ts";
import { CleanupStack } from "./cleanup.ts";
import { attachLoop, loopsOf } from "./loop.ts";

/** Two 8 MiB image files in a new directory, and the files' removal. */
async function twoImages(): Promise<{ ours: string; theirs: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "icaas-loop-test-"));
  const [ours, theirs] = [join(dir, "ours.raw"), join(dir, "theirs.raw")];
  for (const f of [ours, theirs]) await writeFile(f, Buffer.alloc(8 * 1048576));
  return { ours, theirs, remove: () => rm(dir, { recursive: true, force: true }) };
}

describe("loop devices", () => {
  it("never detaches a device whose name another attach reuses after ours was gone", async () => {
    const { ours, theirs, remove } = await twoImages();
    const cleanup = new CleanupStack();
    const device = await attachLoop(cleanup, ours, 0, 4 * 1048576, false);
    await runTool("losetup", ["-d", device]);
    await runTool("losetup", [device, theirs]);
    try {
      await cleanup.unwind(); // ours was detached by someone else: the undo finds the name reused
      assert.deepEqual(await loopsOf(theirs), [device]);
    } finally {
      await runTool("losetup", ["-d", device]).catch(() => undefined);
      await remove();
    }
  });

  it("a busy device detaches when freed, and its name, reused at once by another attach, is left alone", async () => {
    const { ours, theirs, remove } = await twoImages();
    const cleanup = new CleanupStack();
    const device = await attachLoop(cleanup, ours, 1048576, 4 * 1048576, false);
    // Another opener (as a probing blkid would be) holds the device, so losetup -d only marks it for
    // autoclear. On a newline it lets go and at once attaches another file under the same name, as
    // another test or build would: one shell, so the gap is far shorter than detachLoop's poll. The
    // kernel frees the device a moment after the last close (busy until then, longer under load), so
    // the attach is tried every 10 ms, still well inside detachLoop's 100 ms.
    const reattach =
      'for _ in $(seq 500); do losetup "$1" "$2" 2>/dev/null && exit 0; sleep 0.01; done; exit 1';
    const holder = spawn(
      "bash",
      ["-c", `exec 3<"$1"; echo held; read -r _; exec 3<&-; ${reattach}`, "-", device, theirs],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    const held = once(holder.stdout, "data");
    const reused = once(holder, "exit");
    await held;
    const detaching = cleanup.unwind();
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await loopsOf(ours), [device], "still attached while held");
    holder.stdin.end("\n");
    assert.deepEqual(await reused, [0, null], "the name was attached again");
    try {
      await detaching;
      assert.deepEqual(await loopsOf(ours), [], "ours is gone");
      assert.deepEqual(await loopsOf(theirs), [device], "theirs, under the reused name, is still attached");
    } finally {
      await runTool("losetup", ["-d", device]).catch(() => undefined);
      await remove();
    }
  });
});
