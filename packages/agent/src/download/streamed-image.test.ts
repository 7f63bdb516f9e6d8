import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { confirmStreamed, unpack } from "../steps/unpack.ts";
import { makeBitnamiZip } from "../testing/bitnami-zip.ts";
import { LOOPBACK_SOURCE_POLICY, type SourceServer, startSourceServer } from "../testing/source-server.ts";
import { download } from "./download.ts";
import { StreamedImage } from "./streamed-image.ts";

const run = promisify(execFile);
const MiB = 2 ** 20;

describe("StreamedImage: a Bitnami zip decoded while it downloads", () => {
  let dir: string;
  let src: SourceServer;
  let raw: string;
  let expected: Buffer;
  let zip: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-streamed-"));
    src = await startSourceServer();
    // Data, holes, and a size that is no multiple of the 64 KiB grain.
    raw = join(dir, "disk.raw");
    const fh = await open(raw, "w");
    await fh.truncate(6 * MiB + 4096);
    for (const at of [0, 2 * MiB + 333, 5 * MiB]) await fh.write(randomBytes(300_000), 0, 300_000, at);
    await fh.close();
    expected = await readFile(raw);
    zip = (await makeBitnamiZip({ raw, dir: join(dir, "zip") })).path;
  });
  after(async () => {
    await src.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function fetchStreamed(path: string, serve: Parameters<SourceServer["serve"]>[1] = { path }) {
    const name = `/${Math.random().toString(36).slice(2)}.zip`;
    src.serve(name, serve);
    const work = await mkdtemp(join(dir, "work-"));
    const streamed = new StreamedImage({ raw: join(work, ".streamed.raw"), maxVirtualBytes: 2 ** 40 });
    const result = await download({
      url: `${src.url}${name}`,
      destDir: work,
      maxBytes: 1 << 30,
      policy: LOOPBACK_SOURCE_POLICY,
      backoffMs: 10,
      tee: streamed.push,
      onRestart: streamed.restart,
    });
    return { result, outcome: await streamed.outcome(), work };
  }

  it("gives the disk byte for byte, and the central directory confirms it", async () => {
    const { result, outcome } = await fetchStreamed(zip);
    assert.equal(outcome.kind, "decoded", JSON.stringify(outcome));
    const confirmed = await confirmStreamed(result.path, outcome as never, () => {});
    assert.ok(confirmed, "the central directory confirms the streamed member");
    assert.ok((await readFile(confirmed.disk)).equals(expected));
    assert.deepEqual(confirmed.layers, [
      `zip: ${outcome.kind === "decoded" && outcome.member.name}`,
      "vmdk: streamOptimized, decoded while downloading",
    ]);
  });

  it("keeps decoding across a dropped connection (Range resume), without starting over", async () => {
    const { result, outcome } = await fetchStreamed(zip, { path: zip, dropAt: 300_000, dropTimes: 2 });
    assert.equal(result.resumes, 2);
    assert.equal(outcome.kind, "decoded", JSON.stringify(outcome));
    if (outcome.kind === "decoded") assert.ok((await readFile(outcome.raw)).equals(expected));
  });

  it("drops the decode when the server starts over (no Range): the file is unpacked after", async () => {
    const { outcome } = await fetchStreamed(zip, { path: zip, dropAt: 300_000, ignoreRange: true });
    assert.deepEqual(outcome, { kind: "declined", reason: "the download started over" });
  });

  it("streams zips written to a pipe (data descriptors) and zip64 ones", async () => {
    const folder = join(dir, "pipe");
    await mkdir(join(folder, "disk"), { recursive: true });
    await run("qemu-img", [
      "convert",
      "-O",
      "vmdk",
      "-o",
      "subformat=streamOptimized",
      raw,
      join(folder, "disk/disk.vmdk"),
    ]);
    const piped = join(dir, "piped.zip");
    // zip writing to stdout cannot seek back: sizes follow each member in a data descriptor.
    await run("sh", ["-c", `cd '${folder}' && zip -q -r - disk > '${piped}'`]);
    const zip64 = join(dir, "zip64.zip");
    await run("sh", ["-c", `cd '${folder}' && zip -q -r -fz '${zip64}' disk`]);
    for (const path of [piped, zip64]) {
      const { result, outcome } = await fetchStreamed(path);
      assert.equal(outcome.kind, "decoded", `${path}: ${JSON.stringify(outcome)}`);
      const confirmed = await confirmStreamed(result.path, outcome as never, () => {});
      assert.ok(confirmed && (await readFile(confirmed.disk)).equals(expected), path);
    }
  });

  it("streams a stored member (zip -0) too", async () => {
    const stored = (await makeBitnamiZip({ raw, dir: join(dir, "stored"), store: true })).path;
    const { outcome } = await fetchStreamed(stored);
    assert.equal(outcome.kind, "decoded", JSON.stringify(outcome));
    if (outcome.kind === "decoded") assert.ok((await readFile(outcome.raw)).equals(expected));
  });

  it("refuses a member whose name leads out of the archive (unsafe_archive), as the zip check does", async () => {
    const folder = join(dir, "evil");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "aa.txt"), "x\n");
    await run("cp", [zip, join(folder, "in.zip")]);
    await run("zip", ["-q", "-0", "evil.zip", "aa.txt", "in.zip"], { cwd: folder });
    const evil = join(folder, "evil.zip");
    const bytes = await readFile(evil);
    await writeFile(evil, Buffer.from(bytes.toString("latin1").replaceAll("aa.txt", "../txt"), "latin1"));
    const { result, outcome } = await fetchStreamed(evil);
    assert.equal(outcome.kind, "failed");
    if (outcome.kind === "failed") assert.equal(outcome.error.code, "unsafe_archive");
    await assert.rejects(
      confirmStreamed(result.path, outcome as never, () => {}),
      { code: "unsafe_archive" },
    );
  });

  it("leaves anything else to the usual unpack (a qcow2 in a zip)", async () => {
    const folder = join(dir, "q");
    await mkdir(join(folder, "d"), { recursive: true });
    await run("qemu-img", ["convert", "-O", "qcow2", raw, join(folder, "d/d.qcow2")]);
    const q = join(dir, "q.zip");
    await run("zip", ["-q", "-r", q, "d"], { cwd: folder });
    const { outcome } = await fetchStreamed(q);
    assert.equal(outcome.kind, "declined");
  });

  it("a truncated zip: the zip's own error (unpack_failed), not the decoder's", async () => {
    const cut = join(dir, "cut.zip");
    await writeFile(cut, (await readFile(zip)).subarray(0, 400_000));
    const { result, outcome, work } = await fetchStreamed(cut);
    assert.notEqual(outcome.kind, "decoded");
    const unpacked =
      outcome.kind === "failed"
        ? confirmStreamed(result.path, outcome, () => {})
        : unpack({ input: result.path, workDir: work });
    await assert.rejects(unpacked, { code: "unpack_failed", message: /zip archive is damaged or truncated/ });
  });
});
