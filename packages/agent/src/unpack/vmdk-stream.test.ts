import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { deflateSync } from "node:zlib";
import { AgentError } from "../errors.ts";
import { DEFAULT_EXPANSION_LIMITS } from "./expand.ts";
import { decodeStreamOptimized, NotStreamable } from "./vmdk-stream.ts";

const run = promisify(execFile);
const MiB = 2 ** 20;

/** A raw disk of `size` bytes with `regions` of random data (offset, length) and zeros elsewhere. */
async function rawDisk(path: string, size: number, regions: [number, number][]): Promise<void> {
  await writeFile(path, "");
  const fh = await open(path, "r+");
  try {
    await fh.truncate(size);
    for (const [at, length] of regions) await fh.write(randomBytes(length), 0, length, at);
  } finally {
    await fh.close();
  }
}

async function streamVmdk(raw: string, vmdk: string): Promise<void> {
  await run("qemu-img", ["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, vmdk]);
}

const options = () => ({
  limits: DEFAULT_EXPANSION_LIMITS,
  inputBytes: () => 1 << 30,
  maxVirtualBytes: 2 ** 41,
});

/** A qemu-made stream taken apart: the header area and its grains (LBA in sectors, deflated data). */
async function grainsOf(vmdk: string): Promise<{ head: Buffer; grains: { lba: number; data: Buffer }[] }> {
  const bytes = await readFile(vmdk);
  const overhead = Number(bytes.readBigUInt64LE(64)) * 512;
  const grains: { lba: number; data: Buffer }[] = [];
  for (let at = overhead; at + 12 <= bytes.length; ) {
    const lba = Number(bytes.readBigUInt64LE(at));
    const size = bytes.readUInt32LE(at + 8);
    if (size === 0) break;
    grains.push({ lba, data: bytes.subarray(at + 12, at + 12 + size) });
    at += Math.ceil((12 + size) / 512) * 512;
  }
  return { head: bytes.subarray(0, overhead), grains };
}

/** Lays a stream out again: header area, grain markers, then `tail` markers (default EOS). */
function layOut(head: Buffer, grains: { lba: number; data: Buffer }[], tail = [marker(0, 0)]): Buffer {
  const parts: Buffer[] = [head];
  for (const g of grains) {
    const m = Buffer.alloc(Math.ceil((12 + g.data.length) / 512) * 512);
    m.writeBigUInt64LE(BigInt(g.lba), 0);
    m.writeUInt32LE(g.data.length, 8);
    g.data.copy(m, 12);
    parts.push(m);
  }
  return Buffer.concat([...parts, ...tail]);
}

/** The stream in uneven pieces, as a network delivers it. */
async function* pieces(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 13) % 20_000)
    yield bytes.subarray(at, at + n);
}

function marker(type: number, sectors: number): Buffer {
  const m = Buffer.alloc(512 + sectors * 512);
  m.writeBigUInt64LE(BigInt(sectors), 0);
  m.writeUInt32LE(type, 12);
  return m;
}

describe("decodeStreamOptimized", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-vmdk-stream-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, number, [number, number][]][] = [
    [
      "a size that is no multiple of the grain nor of a sector",
      1_000_000,
      [
        [100_000, 70_000],
        [999_990, 10],
      ],
    ],
    [
      "data, zero grains and half-zero grains",
      8 * MiB + 4096,
      [
        [0, 4096],
        [65_536 + 30_000, 200],
        [3 * MiB, MiB + 5],
        [8 * MiB, 4096],
      ],
    ],
    ["an empty disk", 4 * MiB, []],
    ["a disk full of data", 3 * MiB, [[0, 3 * MiB]]],
  ];
  for (const [name, size, regions] of cases) {
    it(`gives the bytes qemu-img convert gives: ${name}`, async () => {
      const raw = join(dir, "in.raw");
      const vmdk = join(dir, "in.vmdk");
      await rawDisk(raw, size, regions);
      await streamVmdk(raw, vmdk);
      const expected = join(dir, "qemu.raw");
      await run("qemu-img", ["convert", "-f", "vmdk", "-O", "raw", vmdk, expected]);
      const out = join(dir, "ours.raw");
      const r = await decodeStreamOptimized(createReadStream(vmdk, { highWaterMark: 7777 }), out, options());
      assert.equal((await stat(out)).size, (await stat(expected)).size);
      assert.ok(
        (await readFile(out)).equals(await readFile(expected)),
        "the decoded disk differs from qemu-img's",
      );
      const dataBytes = regions.reduce((sum, [, length]) => sum + length, 0);
      assert.ok(
        r.allocated <= Math.ceil(dataBytes / 65_536 + regions.length) * 65_536,
        "zeros were written, not left as holes",
      );
      assert.ok((await stat(out)).blocks * 512 <= r.allocated + 65_536);
    });
  }

  /** Decodes `bytes`, recording what the write observer is told, in order. */
  async function observe(bytes: Buffer, out: string) {
    const events: (["data", number, number] | ["final", number])[] = [];
    await decodeStreamOptimized(pieces(bytes), out, {
      ...options(),
      written: {
        dataAt: (offset, length) => events.push(["data", offset, length]),
        finalBelow: (offset) => events.push(["final", offset]),
      },
    });
    return events;
  }

  it("tells its observer where data lands and what is final, never writing below what it called final", async () => {
    const raw = join(dir, "observed.raw");
    const vmdk = join(dir, "observed.vmdk");
    const regions: [number, number][] = [
      [0, 4096],
      [MiB, 3 * MiB],
      [6 * MiB + 5, 100],
    ];
    await rawDisk(raw, 8 * MiB, regions);
    await streamVmdk(raw, vmdk);
    const events = await observe(await readFile(vmdk), join(dir, "observed.out"));
    let final = 0;
    let data = 0;
    for (const event of events) {
      if (event[0] === "final") {
        assert.ok(event[1] >= final, "final only grows");
        final = event[1];
        continue;
      }
      const [, offset, length] = event;
      assert.ok(offset >= final, `data at ${offset} after ${final} was called final`);
      assert.ok(
        regions.some(([at, n]) => offset < at + n && at < offset + length),
        `data reported at ${offset} where the disk has none`,
      );
      data += length;
    }
    assert.equal(final, 8 * MiB, "the whole disk is final at the end");
    assert.equal(data, 65_536 + 3 * MiB + 65_536, "every non-zero grain, once");
    assert.ok(
      events.findIndex((e) => e[0] === "final" && e[1] >= 2 * MiB) <
        events.findIndex((e) => e[1] === 6 * MiB),
      "the start of the disk is final before its end is decoded",
    );
  });

  it("calls nothing more final before the end once a grain comes out of order", async () => {
    const raw = join(dir, "shuffled.raw");
    const vmdk = join(dir, "shuffled.vmdk");
    await rawDisk(raw, 4 * MiB, [
      [0, 4096],
      [2 * MiB, 4096],
      [3 * MiB, 4096],
    ]);
    await streamVmdk(raw, vmdk);
    const { head, grains } = await grainsOf(vmdk);
    // The grain at 2 MiB comes first. Until the one at 0 arrives the stream looked ordered (what an
    // observer was told then may prove stale: a cost, never a wrong image); from it on, nothing is.
    const events = await observe(
      layOut(head, [grains[1]!, grains[0]!, grains[2]!]),
      join(dir, "shuffled.out"),
    );
    const backward = events.findIndex((e) => e[0] === "data" && e[1] === 0);
    const later = events.slice(backward).filter((e) => e[0] === "final");
    assert.deepEqual(later, [["final", 4 * MiB]]);
  });

  it("skips GT, GD and footer markers as VMware's streams place them after the grains", async () => {
    const raw = join(dir, "vmware.raw");
    const vmdk = join(dir, "vmware.vmdk");
    await rawDisk(raw, 2 * MiB, [[MiB, 9000]]);
    await streamVmdk(raw, vmdk);
    const { head, grains } = await grainsOf(vmdk);
    const stream = layOut(head, grains, [marker(1, 4), marker(2, 1), marker(3, 1), marker(0, 0)]);
    await writeFile(vmdk, stream);
    const out = join(dir, "vmware.out");
    await decodeStreamOptimized(pieces(stream), out, options());
    const expected = Buffer.alloc(2 * MiB);
    (await readFile(raw)).copy(expected);
    assert.ok((await readFile(out)).equals(expected));
  });

  describe("damaged input ends with convert_failed, never an image", () => {
    let head: Buffer;
    let grains: { lba: number; data: Buffer }[];
    before(async () => {
      const raw = join(dir, "base.raw");
      const vmdk = join(dir, "base.vmdk");
      await rawDisk(raw, MiB, [
        [0, 200_000],
        [700_000, 1000],
      ]);
      await streamVmdk(raw, vmdk);
      ({ head, grains } = await grainsOf(vmdk));
      assert.ok(grains.length >= 3);
    });

    const damagedCases: [string, () => Buffer, RegExp][] = [
      [
        "a truncated grain",
        () => {
          const whole = layOut(head, grains);
          return whole.subarray(0, head.length + 12 + Math.floor(grains[0]!.data.length / 2));
        },
        /ends inside the grain/,
      ],
      [
        "a marker cut short",
        () => layOut(head, grains, [marker(0, 0).subarray(0, 5)]),
        /ends inside a marker/,
      ],
      ["a bad marker", () => layOut(head, grains, [marker(7, 0)]), /unknown marker type 7/],
      [
        "a grain outside the disk",
        () => layOut(head, [...grains, { lba: 4096, data: grains[0]!.data }]),
        /outside the 1048576-byte disk/,
      ],
      [
        "a grain written twice",
        () => layOut(head, [...grains, { lba: grains[0]!.lba, data: grains[0]!.data }]),
        /comes twice/,
      ],
      [
        "an inflate bomb (a grain that inflates past its size)",
        () => layOut(head, [{ lba: 0, data: deflateSync(Buffer.alloc(64 * MiB, 1)) }]),
        /inflates past its 65536 bytes/,
      ],
      [
        "a grain that inflates short",
        () => layOut(head, [{ lba: 0, data: deflateSync(randomBytes(1000)) }]),
        /inflates to 1000 bytes, not 65536/,
      ],
      ["a grain of garbage", () => layOut(head, [{ lba: 0, data: randomBytes(3000) }]), /does not inflate/],
    ];
    for (const [name, make, message] of damagedCases) {
      it(name, async () => {
        const out = join(dir, "damaged.raw");
        await assert.rejects(decodeStreamOptimized(pieces(make()), out, options()), (error: unknown) => {
          assert.ok(error instanceof AgentError, String(error));
          assert.equal(error.code, "convert_failed");
          assert.match(error.message, message);
          return true;
        });
      });
    }

    it("a damaged grain far into the disk, while other batches are still being inflated: no file left", async () => {
      const raw = join(dir, "many.raw");
      const vmdk = join(dir, "many.vmdk");
      // 200 grains of data: several batches of the worker pool are in flight when grain 150 is met.
      await rawDisk(raw, 16 * MiB, [[0, 200 * 65_536]]);
      await streamVmdk(raw, vmdk);
      const many = await grainsOf(vmdk);
      many.grains[150] = { lba: many.grains[150]!.lba, data: randomBytes(3000) };
      const out = join(dir, "many-damaged.raw");
      await assert.rejects(
        decodeStreamOptimized(pieces(layOut(many.head, many.grains)), out, options()),
        (error: unknown) =>
          error instanceof AgentError &&
          error.code === "convert_failed" &&
          error.message.includes(`the grain at byte ${150 * 65_536} does not inflate`),
      );
      await assert.rejects(stat(out), { code: "ENOENT" }, "half an image is left behind");
    });

    it("refuses data that expands past the ratio cap (unsafe_archive)", async () => {
      const out = join(dir, "ratio.raw");
      const limits = { maxBytes: 2 ** 40, maxRatio: 2, ratioFloorBytes: 0 };
      await assert.rejects(
        decodeStreamOptimized(pieces(layOut(head, grains)), out, {
          ...options(),
          limits,
          inputBytes: () => 1000,
        }),
        (error: unknown) => error instanceof AgentError && error.code === "unsafe_archive",
      );
    });
  });

  it("leaves other VMDK subformats to qemu-img (NotStreamable, nothing written)", async () => {
    const raw = join(dir, "sparse.raw");
    const vmdk = join(dir, "sparse.vmdk");
    await rawDisk(raw, MiB, [[0, 1000]]);
    await run("qemu-img", ["convert", "-f", "raw", "-O", "vmdk", raw, vmdk]);
    const out = join(dir, "never.raw");
    await assert.rejects(decodeStreamOptimized(createReadStream(vmdk), out, options()), NotStreamable);
    await assert.rejects(stat(out), { code: "ENOENT" });
  });
});
