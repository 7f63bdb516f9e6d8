import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { AgentError } from "../errors.ts";
import { expandTo } from "./expand.ts";

describe("expandTo", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-expand-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("judges the last partial batch against the ratio cap", async () => {
    // 3 MiB of data from 1 MiB of input is 3x, over a 2x cap; it is less than one 4 MiB batch, so
    // only the final flush writes it.
    const out = join(dir, "small-bomb");
    const limits = { maxBytes: 1 << 30, maxRatio: 2, ratioFloorBytes: 1 << 20 };
    await assert.rejects(
      expandTo(Readable.from([randomBytes(3 << 20)]), out, { inputBytes: 1 << 20, limits }),
      (e: unknown) => e instanceof AgentError && e.code === "unsafe_archive",
    );
  });

  it("accepts the same data under the cap", async () => {
    const out = join(dir, "fine");
    const limits = { maxBytes: 1 << 30, maxRatio: 4, ratioFloorBytes: 1 << 20 };
    const r = await expandTo(Readable.from([randomBytes(3 << 20)]), out, { inputBytes: 1 << 20, limits });
    assert.deepEqual(r, { bytes: 3 << 20, allocated: 3 << 20 });
  });
});
