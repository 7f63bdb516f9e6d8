/** @module steps/shrink.test — the shrink step ends with the scrub check: a free block holding data stops the build before upload. */
import assert from "node:assert/strict";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareImage } from "@icaas/imageprep";
import { buildLvmTestDisk, buildTestDisk, fileContains } from "@icaas/imageprep/testing";
import { AgentError } from "../errors.ts";
import { AgentLog } from "../log.ts";
import { shrinkStep } from "./shrink.ts";
import type { BuildContext, BuildState } from "./step.ts";

/** What the shrink step uses of a build's context (it talks to no cloud). */
function context(workDir: string, log: AgentLog): BuildContext {
  return {
    workDir,
    log,
    signal: new AbortController().signal,
    estimate: () => undefined,
  } as unknown as BuildContext;
}

describe("shrink step", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-agent-shrink-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("shrinks, then proves every free block reads zero", async () => {
    const disk = await buildTestDisk({ path: join(dir, "ok.raw") });
    const prepared = await prepareImage(disk.path);
    const log = new AgentLog();
    const state: BuildState = { raw: disk.path, metadata: prepared.metadata, shrinkWanted: true };
    assert.equal(await shrinkStep.run(context(dir, log), state, () => undefined), "done");
    assert.equal(state.metadata?.SWAP, "2:16");
    assert.ok((state.rawBytes ?? 0) < disk.size);
    const lines = log.tail(50).join("\n");
    assert.match(
      lines,
      /free blocks of partition 1: \d+ bytes, all zero \(\d+ bytes read, the rest are holes\)/,
    );
  });

  it("shrinks an ext root in LVM (volume, PV, partition) and proves the volume's free blocks zero too", async () => {
    const disk = await buildLvmTestDisk(join(dir, "lvm.raw"), { data: true });
    const prepared = await prepareImage(disk.path);
    const log = new AgentLog();
    const state: BuildState = { raw: disk.path, metadata: prepared.metadata, shrinkWanted: true };
    assert.equal(await shrinkStep.run(context(dir, log), state, () => undefined), "done");
    assert.equal(state.metadata?.SWAP, undefined, "swap_1 stays in the VG: no SWAP partition to recreate");
    assert.ok((state.rawBytes ?? 0) < disk.size / 2, `${disk.size} → ${state.rawBytes}`);
    const lines = log.tail(50).join("\n");
    assert.doesNotMatch(lines, /not shrunk/);
    assert.match(lines, /shrink: LVM physical volume on partition 2: 46 → \d+ extents/);
    assert.match(lines, /free blocks of partition 1: \d+ bytes, all zero/);
    for (const lv of ["root", "data"]) {
      assert.match(
        lines,
        new RegExp(`free blocks of LVM volume testvg/${lv} \\(partition 2\\): \\d+ bytes, all zero`),
      );
    }
  });

  it("fails with scrub_failed, before any upload, when a free block holds data (shrink disabled)", async () => {
    const disk = await buildTestDisk({ path: join(dir, "dirty.raw"), swap: false });
    await prepareImage(disk.path);
    // A secret written where the filesystem has no file: the bitmaps say free, the bytes say otherwise.
    const leak = "LEFT-BEHIND-PRIVATE-KEY";
    const fh = await open(disk.path, "r+");
    await fh.write(Buffer.from(leak), 0, leak.length, disk.rootOffset + disk.rootBytes - 64 * 1024);
    await fh.close();
    assert.ok(await fileContains(disk.path, leak));
    const log = new AgentLog();
    const state: BuildState = { raw: disk.path, metadata: {}, shrinkWanted: false };
    await assert.rejects(
      shrinkStep.run(context(dir, log), state, () => undefined),
      (e) => {
        assert.ok(e instanceof AgentError, String(e));
        assert.equal(e.code, "scrub_failed");
        assert.equal(e.step, "shrink");
        assert.match(
          e.message,
          /^The image was not uploaded: deleted files may still be readable in it: 1 free block/,
        );
        assert.ok(e.hint);
        return true;
      },
    );
  });
});
