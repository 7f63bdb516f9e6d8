import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { decompress } from "./decompress.ts";
import { DEFAULT_EXPANSION_LIMITS } from "./expand.ts";

describe("decompress", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-decompress-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps every byte of a tool that is done before the output file is open", async () => {
    // A small file decompresses in about a millisecond; many at once keep the file system busy, so
    // some tools exit before their output file is open (before the fix, 2 runs in 10 of this test
    // lost a whole output on an idle machine; the child test shows the cause deterministically).
    const data = randomBytes(6000);
    const input = join(dir, "small.gz");
    await writeFile(input, gzipSync(data));
    const runs = Array.from({ length: 60 }, async (_, i) => {
      const output = join(dir, `out-${i}`);
      const r = await decompress("gzip", input, output, { limits: DEFAULT_EXPANSION_LIMITS });
      return { bytes: r.bytes, same: (await readFile(output)).equals(data) };
    });
    const results = await Promise.all(runs);
    assert.deepEqual(
      results.filter((r) => !r.same),
      [],
      "a decompression came back short",
    );
  });
});
