import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError } from "../errors.ts";
import { convertToRaw } from "./convert.ts";
import { inspectDisk } from "./inspect.ts";

function sh(cwd: string, command: string, args: string[]): void {
  execFileSync(command, args, { cwd, stdio: "pipe" });
}

function code(expected: string, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AgentError, `an AgentError, not ${String(e)}`);
    assert.equal(e.code, expected, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

describe("inspect and convert", () => {
  let dir: string;
  let raw: string;
  let rawBytes: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-inspect-"));
    raw = join(dir, "disk.raw");
    // 32 MiB MBR disk with an ext4 partition and some random data in it.
    sh(dir, "truncate", ["-s", "32M", raw]);
    execFileSync("sfdisk", ["-q", raw], { input: "label: dos\nstart=2048,type=83\n" });
    sh(dir, "mkfs.ext4", ["-q", "-F", "-E", "offset=1048576", raw, "30M"]);
    const fh = await import("node:fs/promises").then((m) => m.open(raw, "r+"));
    await fh.write(randomBytes(1 << 20), 0, 1 << 20, 20 << 20);
    await fh.close();
    rawBytes = await readFile(raw);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const formats: [string, string[], string, string | undefined][] = [
    ["stream.vmdk", ["-O", "vmdk", "-o", "subformat=streamOptimized"], "vmdk", "streamOptimized"],
    ["disk.qcow2", ["-O", "qcow2"], "qcow2", undefined],
    ["fixed.vhd", ["-O", "vpc", "-o", "subformat=fixed,force_size=on"], "vpc", "fixed"],
    ["dynamic.vhd", ["-O", "vpc", "-o", "force_size=on"], "vpc", undefined],
    ["disk.vhdx", ["-O", "vhdx"], "vhdx", undefined],
    ["disk.vdi", ["-O", "vdi"], "vdi", undefined],
  ];
  for (const [name, args, format, subformat] of formats) {
    it(`reads ${name} as ${format} and converts it back to the same raw bytes`, async () => {
      const path = join(dir, name);
      sh(dir, "qemu-img", ["convert", "-f", "raw", ...args, raw, path]);
      const info = await inspectDisk({ path });
      assert.equal(info.format, format);
      assert.equal(info.virtualSize, 32 << 20);
      assert.equal(info.subformat, subformat);
      const seen: number[] = [];
      const out = join(dir, `${name}.raw`);
      const r = await convertToRaw({ disk: info, output: out, onProgress: (d) => seen.push(d) });
      assert.equal(r.bytes, 32 << 20);
      assert.deepEqual(await readFile(out), rawBytes);
      assert.equal(seen.at(-1), 32 << 20);
      const st = await stat(out);
      assert.ok(st.blocks * 512 < 16 << 20, "the raw output is sparse");
      await rm(out);
    });
  }

  it("converts a disk that arrived under the output's own name (a qcow2 named image.raw)", async () => {
    const path = join(dir, "image.raw");
    sh(dir, "qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, path]);
    const info = await inspectDisk({ path });
    assert.equal(info.format, "qcow2");
    const r = await convertToRaw({ disk: info, output: path });
    assert.equal(r.copied, true);
    assert.deepEqual(await readFile(path), rawBytes);
    assert.equal((await inspectDisk({ path })).format, "raw");
    await rm(path);
  });

  it("takes a raw disk as it is (renamed, not copied)", async () => {
    const copy = join(dir, "copy.raw");
    await writeFile(copy, rawBytes);
    const info = await inspectDisk({ path: copy });
    assert.equal(info.format, "raw");
    const r = await convertToRaw({ disk: info, output: join(dir, "renamed.raw") });
    assert.equal(r.copied, false);
    assert.deepEqual(await readFile(r.path), rawBytes);
  });

  it("refuses a qcow2 with a backing file, before qemu-img opens it", async () => {
    sh(dir, "qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", raw, join(dir, "overlay.qcow2")]);
    await assert.rejects(
      inspectDisk({ path: join(dir, "overlay.qcow2") }),
      code("backing_file_refused", /backing file/),
    );
  });

  it("refuses a qcow2 with an external data file", async () => {
    sh(dir, "qemu-img", ["create", "-q", "-f", "raw", join(dir, "data.bin"), "32M"]);
    sh(dir, "qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      "data_file=data.bin",
      join(dir, "ext.qcow2"),
      "32M",
    ]);
    await assert.rejects(
      inspectDisk({ path: join(dir, "ext.qcow2") }),
      code("backing_file_refused", /external file/),
    );
  });

  it("refuses a VMDK descriptor pointing at another file", async () => {
    sh(dir, "qemu-img", [
      "convert",
      "-O",
      "vmdk",
      "-o",
      "subformat=monolithicFlat",
      raw,
      join(dir, "flat.vmdk"),
    ]);
    await assert.rejects(
      inspectDisk({ path: join(dir, "flat.vmdk") }),
      code("backing_file_refused", /extent/),
    );
  });

  it("refuses a VMDK whose embedded descriptor reads another file of the same name", async () => {
    // A sparse header with capacity 0 makes qemu parse the embedded descriptor, which may name any
    // file; the download can be given that file's name (`http://…/shadow`), so names must not decide.
    const other = await mkdtemp(join(tmpdir(), "icaas-other-"));
    try {
      await writeFile(join(other, "same.vmdk"), "a secret of the agent VM\n");
      const descriptor = Buffer.alloc(512);
      descriptor.write(
        `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 16 FLAT "${join(other, "same.vmdk")}" 0\n`,
      );
      const header = Buffer.alloc(512);
      header.write("KDMV", 0, "latin1");
      header.writeUInt32LE(1, 4); // version
      header.writeUInt32LE(3, 8); // flags
      header.writeBigUInt64LE(0n, 12); // capacity 0: use the descriptor
      header.writeBigUInt64LE(128n, 20); // grain size
      header.writeBigUInt64LE(1n, 28); // descriptor offset (sectors)
      header.writeBigUInt64LE(1n, 36); // descriptor size (sectors)
      header.write("\n \r\n", 73, "latin1");
      const sub = join(dir, "sub");
      await import("node:fs/promises").then((m) => m.mkdir(sub, { recursive: true }));
      await writeFile(join(sub, "same.vmdk"), Buffer.concat([header, descriptor]));
      await assert.rejects(
        inspectDisk({ path: join(sub, "same.vmdk") }),
        code("backing_file_refused", /extent/),
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("says a text file or a web page is no disk image", async () => {
    await writeFile(join(dir, "notes.txt"), "just some text\n".repeat(100));
    await assert.rejects(
      inspectDisk({ path: join(dir, "notes.txt") }),
      code("not_a_disk_image", /not a disk image/),
    );
    await writeFile(join(dir, "page.img"), "<!DOCTYPE html><html><body>Download</body></html>");
    await assert.rejects(inspectDisk({ path: join(dir, "page.img") }), (e: unknown) => {
      code("not_a_disk_image", /web page/)(e);
      assert.match((e as AgentError).hint ?? "", /direct link/);
      return true;
    });
    await writeFile(join(dir, "empty.img"), "");
    await assert.rejects(inspectDisk({ path: join(dir, "empty.img") }), code("not_a_disk_image", /empty/));
  });

  it("refuses a disk bigger than the limit", async () => {
    sh(dir, "qemu-img", ["create", "-q", "-f", "qcow2", join(dir, "huge.qcow2"), "4T"]);
    await assert.rejects(
      inspectDisk({ path: join(dir, "huge.qcow2") }),
      code("unsupported_image", /more than/),
    );
  });

  it("reports a damaged image as convert_failed", async () => {
    const path = join(dir, "broken.qcow2");
    sh(dir, "qemu-img", ["convert", "-O", "qcow2", "-c", raw, path]);
    const info = await inspectDisk({ path });
    const bytes = await readFile(path);
    // Scribble over the compressed clusters (after the metadata), keeping the header.
    randomBytes(bytes.length - 0x50000).copy(bytes, 0x50000);
    await writeFile(path, bytes);
    await assert.rejects(
      convertToRaw({ disk: info, output: join(dir, "broken.raw") }),
      code("convert_failed"),
    );
  });
});
