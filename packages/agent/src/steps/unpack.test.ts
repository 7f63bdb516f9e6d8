import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { AgentError } from "../errors.ts";
import { unpack } from "./unpack.ts";

const BITNAMI = "bitnami-foo-1.0-0-linux-debian-12-x86_64";

function sh(cwd: string, command: string, args: string[]): void {
  execFileSync(command, args, { cwd, stdio: "pipe" });
}

function code(expected: string) {
  return (e: unknown) => {
    assert.ok(e instanceof AgentError, `an AgentError, not ${String(e)}`);
    assert.equal(e.code, expected, e.message);
    assert.equal(e.step, "unpack");
    return true;
  };
}

describe("unpack", () => {
  let dir: string;
  let disk: Buffer;
  let n = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-unpack-"));
    // A "disk": 1 MiB of data, 6 MiB of zeros, 1 MiB of data — the zeros must come out as a hole.
    disk = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(6 << 20), randomBytes(1 << 20)]);
    const tree = join(dir, "tree", BITNAMI);
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, `${BITNAMI}.vmdk`), disk);
    await writeFile(
      join(tree, `${BITNAMI}.ovf`),
      `<Envelope><References><File ovf:href="${BITNAMI}.vmdk"/></References></Envelope>`,
    );
    await writeFile(join(tree, "README.txt"), "hello\n");
    await writeFile(join(tree, "small-other.vmdk"), randomBytes(4096));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function work(): Promise<string> {
    const w = join(dir, `work-${n++}`);
    await mkdir(w);
    return w;
  }

  async function bitnamiZip(args: string[] = []): Promise<string> {
    const w = await work();
    const zip = join(w, `${BITNAMI}.zip`);
    sh(join(dir, "tree"), "zip", ["-q", "-r", ...args, zip, BITNAMI]);
    return zip;
  }

  it("takes the disk out of a Bitnami zip (the OVF's disk, not the other vmdk), sparse", async () => {
    const zip = await bitnamiZip();
    const w = await work();
    const lines: string[] = [];
    const r = await unpack({ input: zip, workDir: w, log: (l) => lines.push(l) });
    assert.deepEqual(r.layers, [`zip: ${BITNAMI}/${BITNAMI}.vmdk`]);
    assert.deepEqual(await readFile(r.disk), disk);
    assert.equal(r.bytes, disk.length);
    const st = await stat(r.disk);
    assert.ok(st.blocks * 512 < 4 << 20, `6 MiB of zeros became a hole (${st.blocks * 512} bytes allocated)`);
    assert.equal(existsSync(zip), false, "the consumed zip is deleted");
    assert.ok(lines.some((l) => l.includes("the disk is")));
  });

  it("reads zip64 archives", async () => {
    const zip = await bitnamiZip(["-fz"]);
    const r = await unpack({ input: zip, workDir: await work() });
    assert.deepEqual(await readFile(r.disk), disk);
  });

  it("refuses a truncated zip with unpack_failed", async () => {
    const zip = await bitnamiZip();
    const whole = await readFile(zip);
    await writeFile(zip, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await assert.rejects(unpack({ input: zip, workDir: await work() }), (e: unknown) => {
      code("unpack_failed")(e);
      assert.match((e as Error).message, /damaged or truncated/);
      return true;
    });
  });

  it("refuses a stored zip whose data was damaged (CRC-32), and a deflated one that no longer inflates", async () => {
    for (const args of [["-0"], []]) {
      const zip = await bitnamiZip(args);
      const bytes = await readFile(zip);
      // Flip bytes inside the disk's data (past the headers, before the central directory).
      for (let i = 0; i < 64; i++) {
        const at = (bytes.length >> 1) + i * 97;
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      }
      await writeFile(zip, bytes);
      await assert.rejects(unpack({ input: zip, workDir: await work() }), (e: unknown) => {
        code("unpack_failed")(e);
        assert.match((e as Error).message, /damaged or truncated/);
        return true;
      });
    }
  });

  it("refuses a zip with a ../ entry before writing anything", async () => {
    const w = await work();
    await writeFile(join(w, "aa.txt"), "x");
    await writeFile(join(w, "disk.img"), randomBytes(1024));
    sh(w, "zip", ["-q", "evil.zip", "disk.img", "aa.txt"]);
    // Same length, so the archive stays valid: "aa.txt" → "../txt" in both headers.
    const bytes = await readFile(join(w, "evil.zip"));
    await writeFile(
      join(w, "evil.zip"),
      Buffer.from(bytes.toString("latin1").replaceAll("aa.txt", "../txt"), "latin1"),
    );
    const out = await work();
    await assert.rejects(unpack({ input: join(w, "evil.zip"), workDir: out }), code("unsafe_archive"));
    assert.equal(existsSync(join(dir, "txt")), false);
  });

  it("refuses a zip holding a symlink that leads out", async () => {
    const w = await work();
    await writeFile(join(w, "disk.img"), randomBytes(1024));
    await symlink("../../../etc/passwd", join(w, "link"));
    sh(w, "zip", ["-q", "-y", "links.zip", "disk.img", "link"]);
    await assert.rejects(unpack({ input: join(w, "links.zip"), workDir: await work() }), (e: unknown) => {
      code("unsafe_archive")(e);
      assert.match((e as Error).message, /link leading out/);
      return true;
    });
  });

  it("says what the archive holds when there is no disk in it", async () => {
    const w = await work();
    await writeFile(join(w, "notes.txt"), "no disk here\n");
    sh(w, "zip", ["-q", "nodisk.zip", "notes.txt"]);
    await assert.rejects(unpack({ input: join(w, "nodisk.zip"), workDir: await work() }), (e: unknown) => {
      code("no_disk_in_archive")(e);
      assert.match((e as Error).message, /notes\.txt/);
      return true;
    });
  });

  it("stops a zip bomb at the ratio cap", async () => {
    const w = await work();
    await writeFile(join(w, "disk.img"), Buffer.alloc(16 << 20, 0x61));
    sh(w, "zip", ["-q", "bomb.zip", "disk.img"]);
    const limits = { maxBytes: 1 << 30, maxRatio: 100, ratioFloorBytes: 1 << 20 };
    await assert.rejects(
      unpack({ input: join(w, "bomb.zip"), workDir: await work(), limits }),
      (e: unknown) => {
        code("unsafe_archive")(e);
        assert.match((e as Error).message, /more than 100 times/);
        return true;
      },
    );
    const capped = { maxBytes: 4 << 20, maxRatio: 1e9, ratioFloorBytes: 1 << 20 };
    await assert.rejects(
      unpack({ input: join(w, "bomb.zip"), workDir: await work(), limits: capped }),
      code("unsafe_archive"),
    );
  });

  it("measures nested layers against the download, so layers under the ratio cannot multiply past it", async () => {
    const w = await work();
    // Runs of 160 'a's and one random letter: gzip -1 shrinks it ~80x, a second gzip ~2x more, so
    // each layer stays under a 100x ratio while the whole is ~150x.
    let seed = 1;
    const data = Buffer.alloc(161 * 150_000, 0x61);
    for (let i = 160; i < data.length; i += 161) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      data[i] = 0x41 + (seed % 4);
    }
    const outer = gzipSync(gzipSync(data, { level: 1 }), { level: 9 });
    assert.ok(data.length / outer.length > 100, "the test data must expand past the cap overall");
    await writeFile(join(w, "disk.img.gz.gz"), outer);
    const limits = { maxBytes: 1 << 30, maxRatio: 100, ratioFloorBytes: 1 << 20 };
    await assert.rejects(
      unpack({ input: join(w, "disk.img.gz.gz"), workDir: await work(), limits }),
      (e: unknown) => {
        code("unsafe_archive")(e);
        assert.match((e as Error).message, /more than 100 times/);
        return true;
      },
    );
  });

  it("takes the disk out of an OVA (tar) by its OVF, and out of .tar.xz", async () => {
    const w = await work();
    await writeFile(
      join(w, "vm.ovf"),
      `<Envelope><References><File ovf:id="f1" ovf:href="vm-disk1.vmdk"/></References></Envelope>`,
    );
    await writeFile(join(w, "vm-disk1.vmdk"), disk);
    await writeFile(join(w, "vm-bigger.img"), Buffer.concat([disk, disk]));
    sh(w, "tar", ["-cf", "vm.ova", "vm.ovf", "vm-disk1.vmdk", "vm-bigger.img"]);
    const r = await unpack({ input: join(w, "vm.ova"), workDir: await work(), removeConsumed: false });
    assert.deepEqual(r.layers, ["tar: vm-disk1.vmdk"]);
    assert.deepEqual(await readFile(r.disk), disk);
    sh(w, "tar", ["-cJf", "vm.tar.xz", "vm-disk1.vmdk"]);
    const r2 = await unpack({ input: join(w, "vm.tar.xz"), workDir: await work() });
    assert.deepEqual(r2.layers, ["xz", "tar: vm-disk1.vmdk"]);
    assert.deepEqual(await readFile(r2.disk), disk);
  });

  it("refuses tar entries with ../ names and links leading out", async () => {
    const w = await work();
    await mkdir(join(w, "sub"));
    await writeFile(join(w, "sub", "disk.img"), randomBytes(4096));
    sh(join(w, "sub"), "tar", ["-cPf", "../dots.tar", "../sub/disk.img"]);
    await assert.rejects(
      unpack({ input: join(w, "dots.tar"), workDir: await work() }),
      code("unsafe_archive"),
    );
    await symlink("/etc/shadow", join(w, "sub", "abs-link"));
    sh(join(w, "sub"), "tar", ["-cf", "../links.tar", "disk.img", "abs-link"]);
    await assert.rejects(unpack({ input: join(w, "links.tar"), workDir: await work() }), (e: unknown) => {
      code("unsafe_archive")(e);
      assert.match((e as Error).message, /absolute path/);
      return true;
    });
  });

  for (const [tool, flag] of [
    ["gzip", "-k"],
    ["bzip2", "-k"],
    ["zstd", "-q"],
    ["xz", "-k"],
  ] as const) {
    it(`decompresses a ${tool} disk`, async () => {
      const w = await work();
      await writeFile(join(w, "disk.img"), disk);
      sh(w, tool, [flag, "disk.img"]);
      const ext = { gzip: "gz", bzip2: "bz2", zstd: "zst", xz: "xz" }[tool];
      const r = await unpack({ input: join(w, `disk.img.${ext}`), workDir: await work() });
      assert.deepEqual(r.layers, [tool]);
      assert.deepEqual(await readFile(r.disk), disk);
      assert.match(r.disk, /disk\.img$/);
    });
  }

  it("reports truncated compressed data as unpack_failed", async () => {
    const w = await work();
    await writeFile(join(w, "disk.img"), randomBytes(1 << 20));
    sh(w, "xz", ["-k", "disk.img"]);
    const whole = await readFile(join(w, "disk.img.xz"));
    await writeFile(join(w, "disk.img.xz"), whole.subarray(0, whole.length >> 1));
    await assert.rejects(
      unpack({ input: join(w, "disk.img.xz"), workDir: await work() }),
      code("unpack_failed"),
    );
  });

  it("leaves a file that is no archive as it is", async () => {
    const w = await work();
    await writeFile(join(w, "disk.qcow2"), disk);
    const r = await unpack({ input: join(w, "disk.qcow2"), workDir: await work() });
    assert.deepEqual(r.layers, []);
    assert.equal(r.disk, join(w, "disk.qcow2"));
  });
});
