/** @module scrub.test — the scrub guarantee: nothing preparation deletes or empties is left anywhere in the raw image. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scrubFreeBlocks } from "./discard.ts";
import { isImagePrepError } from "./errors.ts";
import { freeBlockRanges, verifyFreeBlocksZero } from "./free-blocks.ts";
import { prepareImage } from "./prepare.ts";
import { runTool } from "./run-tool.ts";
import { shrinkImage } from "./shrink.ts";
import { buildTestDisk, guestCat, guestStat } from "./testing/index.ts";

/** Which markers of `names` occur in the whole file (holes read as zeros). */
async function markersIn(path: string, id: string, names: string[]): Promise<string[]> {
  // Test images are small (≤ 96 MiB): read whole.
  const bytes = await readFile(path);
  if (!bytes.includes(id)) return [];
  return names.filter((n) => bytes.includes(`${id}-${n}`));
}

/** A guest file that holds `marker` spread over `bytes` (several blocks, so whole blocks must go). */
function secret(marker: string, bytes: number): string {
  let s = "";
  while (s.length < bytes) s += `${marker} ${randomBytes(24).toString("hex")}\n`;
  return s;
}

/** Many files with long names: their directory spans blocks, unindexed, as mkfs -d and copies leave it. */
function bigDirectory(dir: string, id: string, n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++)
    files[`${dir}/cached-package-list-with-a-rather-long-file-name-${i}`] = `${id}-cache-${i % 3}\n`;
  return files;
}

describe("the scrub guarantee: deleted and emptied files leave no byte in the published image", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-scrub-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const populate of ["mkfs", "copy"] as const) {
    for (const blockSize of [1024, 4096] as const) {
      for (const optimise of [true, false]) {
        const name = `${populate === "mkfs" ? "mkfs.ext4 -d" : "file-by-file copy"}, ${blockSize}-byte blocks, ${optimise ? "with" : "without"} directory optimisation`;
        it(name, async () => {
          const id = `SCRUB${randomBytes(6).toString("hex").toUpperCase()}`;
          const extraFiles: Record<string, string> = {
            "/etc/ssh/ssh_host_ed25519_key": `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret(`${id}-hostkey`, 3000)}-----END OPENSSH PRIVATE KEY-----\n`,
            "/etc/ssh/ssh_host_rsa_key": secret(`${id}-rsakey`, 9000),
            "/home/admin/.ssh/authorized_keys": `ssh-ed25519 AAAA ${id}-authkeys admin@laptop\n`,
            "/root/.bash_history": secret(`${id}-history`, 5000),
            "/var/log/auth.log": secret(`${id}-authlog`, 20000),
            "/var/log/syslog": `${id}-syslog one line\n`,
          };
          if (optimise) Object.assign(extraFiles, bigDirectory("/var/cache/apt/lists", id, 400));
          const names = ["hostkey", "rsakey", "authkeys", "history", "authlog", "syslog"];
          if (optimise) names.push("cache-0", "cache-1", "cache-2");
          const path = join(dir, `${populate}-${blockSize}-${optimise}.raw`);
          const disk = await buildTestDisk({ path, blockSize, populate, extraFiles });
          assert.deepEqual(await markersIn(path, id, names), names, "every marker is in the source image");
          if (optimise) {
            // The premise of the case: without a repair pass first, e2fsck optimises a directory
            // in the discard's own run. Checked on a copy so the image under test is untouched.
            const probe = join(dir, "probe.raw");
            await runTool("cp", ["--sparse=always", path, probe]);
            const edits = Object.keys(extraFiles)
              .filter((f) => f.startsWith("/var/cache/"))
              .map((f) => `rm ${f}`);
            await runTool("debugfs", ["-w", "-f", "-", `${probe}?offset=${disk.rootOffset}`], {
              input: `${edits.join("\n")}\n`,
            });
            const r = await runTool("e2fsck", ["-fy", `${probe}?offset=${disk.rootOffset}`]);
            assert.match(r.stdout, /Pass 3A: Optimizing directories/);
            await rm(probe);
          }

          await prepareImage(path);
          assert.deepEqual(await markersIn(path, id, names), [], "no marker is left after prepare");
          await shrinkImage(path);
          assert.deepEqual(await markersIn(path, id, names), [], "no marker is left after shrink");
          const reports = await verifyFreeBlocksZero(path);
          assert.equal(reports.length, 1);
          assert.equal(reports[0]?.dirtyBlocks, 0);
          assert.ok((reports[0]?.freeBytes ?? 0) > 0);
        });
      }
    }
  }

  it("inline data: small deleted or emptied files do not stay in their freed inodes; hard links keep theirs", async () => {
    const id = `SCRUB${randomBytes(6).toString("hex").toUpperCase()}`;
    const path = join(dir, "inline.raw");
    const disk = await buildTestDisk({
      path,
      swap: false,
      features: "inline_data",
      extraFiles: {
        "/home/admin/.ssh/authorized_keys": `ssh-ed25519 AAAA ${id}-authkeys a@b\n`,
        "/root/.bash_history": `ls\n${id}-history\n`,
        "/var/log/syslog": `${id}-syslog\n`,
        "/tmp/note": `${id}-tmp\n`,
        "/etc/keep.conf": `${id}-kept\n`,
      },
    });
    // A hard link under /tmp to a file that stays: removing the link must not empty the file.
    await runTool("debugfs", [
      "-w",
      "-R",
      "ln /etc/keep.conf /tmp/keep-link",
      `${path}?offset=${disk.rootOffset}`,
    ]);
    await runTool("debugfs", [
      "-w",
      "-R",
      "sif /etc/keep.conf links_count 2",
      `${path}?offset=${disk.rootOffset}`,
    ]);
    const names = ["authkeys", "history", "syslog", "tmp"];
    assert.deepEqual(await markersIn(path, id, names), names);
    await prepareImage(path);
    assert.deepEqual(await markersIn(path, id, names), []);
    // (debugfs cat prints an inline file's whole inode area: NULs after the content.)
    const kept = (await guestCat(path, disk.rootOffset, "/etc/keep.conf")) ?? "";
    assert.equal(kept.replace(/\0+$/, ""), `${id}-kept\n`);
    assert.equal((await guestStat(path, disk.rootOffset, "/etc/keep.conf"))?.size, `${id}-kept\n`.length);
  });

  it("a directory optimised in the same e2fsck run no longer stops the discard", async () => {
    // The reported defect in its smallest form: a bare filesystem, a key and most of a big
    // directory deleted; one `e2fsck -fy -E discard` run optimises the directory and discards nothing.
    const id = `SCRUB${randomBytes(6).toString("hex").toUpperCase()}`;
    const tree = join(dir, "tree");
    await runTool("mkdir", ["-p", `${tree}/etc/ssh`, `${tree}/big`]);
    await writeFile(`${tree}/etc/ssh/ssh_host_ed25519_key`, secret(`${id}-hostkey`, 4400));
    for (let i = 0; i < 300; i++) await writeFile(`${tree}/big/file-with-a-long-name-${i}`, "x\n");
    const fs = join(dir, "bare.img");
    await writeFile(fs, "");
    await truncate(fs, 64 << 20);
    await runTool("mkfs.ext4", ["-q", "-F", "-b", "4096", "-d", tree, fs]);
    const edits = ["rm /etc/ssh/ssh_host_ed25519_key"];
    for (let i = 0; i < 250; i++) edits.push(`rm /big/file-with-a-long-name-${i}`);
    await runTool("debugfs", ["-w", "-f", "-", fs], { input: `${edits.join("\n")}\n` });
    assert.deepEqual(await markersIn(fs, id, ["hostkey"]), ["hostkey"]);

    const r = await scrubFreeBlocks(fs, 0);
    assert.equal(r.repaired, true, "the repair pass optimised the directory");
    assert.equal(r.discardPasses, 1);
    assert.deepEqual(await markersIn(fs, id, ["hostkey"]), []);
    const [report] = await verifyFreeBlocksZero(fs);
    assert.equal(report?.partition, 0);
    assert.equal(report?.dirtyBlocks, 0);
  });

  it("the check fails the build with scrub_failed when a free block holds data", async () => {
    const path = join(dir, "dirty.raw");
    const disk = await buildTestDisk({ path, swap: false });
    await prepareImage(path);
    const { blockSize, ranges } = await freeBlockRanges(path, disk.rootOffset);
    const [first, last] = ranges[ranges.length - 1] as [number, number];
    const block = Math.floor((first + last) / 2);
    const fh = await open(path, "r+");
    await fh.write(Buffer.from("LEFT-BEHIND-SECRET"), 0, 18, disk.rootOffset + block * blockSize + 100);
    await fh.close();
    await assert.rejects(verifyFreeBlocksZero(path), (e) => {
      assert.ok(isImagePrepError(e, "scrub_failed"), String(e));
      assert.match(
        e.message,
        new RegExp(
          `1 free block\\(s\\) of partition ${disk.rootPartition} still hold data \\(blocks ${block}\\)`,
        ),
      );
      return true;
    });
  });
});
