import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ExtentCursor, findDataExtents, parseFilefrag } from "./file-holes.ts";

const MiB = 1024 * 1024;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-holes-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("parseFilefrag reads delalloc and written extents, treats unwritten ones as holes, merges neighbours", () => {
  const output = [
    "Filesystem type is: ef53",
    "File size of sp is 67108864 (16384 blocks of 4096 bytes)",
    " ext:     logical_offset:        physical_offset: length:   expected: flags:",
    "   0:     2048..    3071:          0..         0:      0:             unknown_loc,delalloc",
    "   1:     3072..    3583:    6009856..   6010367:    512:             ",
    "   2:     4096..    4351:    6100000..   6100255:    256:             unwritten",
    "   3:     7680..    7935:    6020608..   6020863:    256:    6014464: last,eof",
    "sp: 4 extents found",
  ].join("\n");
  assert.deepEqual(parseFilefrag(output, 64 * MiB), [
    { start: 8 * MiB, end: 14 * MiB },
    { start: 30 * MiB, end: 31 * MiB },
  ]);
  assert.deepEqual(parseFilefrag("x: 0 extents found\nFile size of x is 5 (1 block of 4096 bytes)", 5), []);
  assert.equal(parseFilefrag("filefrag: FIBMAP unsupported", 5), undefined);
});

test("ExtentCursor answers per block in order", () => {
  const cursor = new ExtentCursor([
    { start: 10, end: 20 },
    { start: 40, end: 41 },
  ]);
  assert.equal(cursor.mayHoldData(0, 10), false);
  assert.equal(cursor.mayHoldData(10, 15), true);
  assert.equal(cursor.mayHoldData(20, 40), false);
  assert.equal(cursor.mayHoldData(40, 50), true);
  assert.equal(cursor.mayHoldData(50, 60), false);
  assert.equal(new ExtentCursor(undefined).mayHoldData(0, 1), true);
});

test("findDataExtents finds the data of a sparse file without reading it (ext4/XFS/Btrfs)", async (t) => {
  const path = join(dir, "sparse.img");
  const fh = await open(path, "w");
  await fh.truncate(64 * MiB);
  await fh.write(randomBytes(MiB), 0, MiB, 8 * MiB);
  await fh.write(randomBytes(100), 0, 100, 40 * MiB + 5);
  await fh.close();
  const fsType = (await statfs(path)).type;
  const found = await findDataExtents(path);
  if (![0xef53, 0x58465342, 0x9123683e].includes(fsType)) {
    // tmpdir on another filesystem: the caller must read everything.
    assert.equal(found.extents, undefined);
    t.diagnostic(`tmpdir filesystem 0x${fsType.toString(16)}: no FIEMAP trust`);
    return;
  }
  assert.equal(found.source, "filefrag");
  const extents = found.extents!;
  const covers = (a: number, b: number) => extents.some((e) => e.start <= a && e.end >= b);
  assert.ok(covers(8 * MiB, 9 * MiB), JSON.stringify(extents));
  assert.ok(covers(40 * MiB + 5, 40 * MiB + 105), JSON.stringify(extents));
  const total = extents.reduce((n, e) => n + e.end - e.start, 0);
  assert.ok(total < 2 * MiB, `only the written data is mapped: ${total}`);

  const empty = join(dir, "empty.img");
  await writeFile(empty, "");
  const fully = join(dir, "holes.img");
  await (await open(fully, "w")).truncate(16 * MiB);
  assert.deepEqual((await findDataExtents(empty)).extents, []);
  assert.deepEqual(await findDataExtents(fully), { extents: [], source: "empty" });
  const dense = join(dir, "dense.img");
  await writeFile(dense, randomBytes(MiB));
  assert.deepEqual(await findDataExtents(dense), { extents: undefined, source: "dense" });
});
