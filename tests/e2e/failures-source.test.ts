/** Failure paths of the source: a 404, a dropped connection (resumed), a truncated zip, a zip leading out. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { makeBitnamiZip } from "@icaas/agent/testing";
import { buildTestDisk } from "@icaas/imageprep/testing";
import {
  createBuild,
  describeEachRelease,
  expectError,
  type Pipeline,
  run,
  suitePipeline,
  waitBuild,
  waitVmGone,
} from "./pipeline-harness.ts";

describeEachRelease("e2e: source failures", (synnefo) => {
  let p: Pipeline;
  let zipPath: string;
  let zipName: string;

  suitePipeline(synnefo, async (started) => {
    p = started;
    const disk = await buildTestDisk({ path: join(p.dir, "source.raw"), diskMiB: 64, swap: false });
    const zip = await makeBitnamiZip({ raw: disk.path, dir: p.dir });
    zipPath = zip.path;
    zipName = zip.name;
  });

  it("a URL answering 404 ends ERROR download_not_found", async () => {
    const id = await createBuild(p, { name: "missing", src: `${p.src.url}/nothing-here.zip` });
    const build = await expectError(p, id, "download_not_found", "download");
    assert.equal(build.error.message, "The image URL was not found (HTTP 404)");
    assert.match(build.error.hint ?? "", /URL/);
  });

  it("a connection dropped mid-download resumes with Range and COMPLETES", async () => {
    const size = (await readFile(zipPath)).length;
    p.src.serve(`/flaky/${zipName}.zip`, { path: zipPath, dropAt: Math.floor(size / 2) });
    const id = await createBuild(p, { name: "flaky", src: `${p.src.url}/flaky/${zipName}.zip` });
    const build = await waitBuild(p, id);
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error));
    const ranges = p.src.requests.filter((r) => r.path === `/flaky/${zipName}.zip`).map((r) => r.range);
    assert.deepEqual(ranges, [undefined, `bytes=${Math.floor(size / 2)}-`]);
    const log = await (await p.pithos().getObject(build.log.container, build.log.object)).body.text();
    assert.match(log, /the connection dropped at byte \d+ .*; resuming\n/);
    assert.match(log, new RegExp(`resuming at byte ${Math.floor(size / 2)} of ${size}`));
    await waitVmGone(p, id);
  });

  it("a truncated zip ends ERROR unpack_failed", async () => {
    const whole = await readFile(zipPath);
    const cut = join(p.dir, "truncated.zip");
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
    p.src.serve(`/truncated/${zipName}.zip`, { path: cut });
    const id = await createBuild(p, { name: "truncated", src: `${p.src.url}/truncated/${zipName}.zip` });
    const build = await expectError(p, id, "unpack_failed", "unpack");
    assert.match(build.error.message, /zip archive is damaged or truncated/);
  });

  it("a zip with a ../ entry ends ERROR unsafe_archive", async () => {
    const dir = join(p.dir, "evil");
    await run("mkdir", ["-p", dir]);
    await run("cp", [join(p.dir, "source.raw"), join(dir, "disk.img")]);
    await writeFile(join(dir, "aa.txt"), "x\n");
    await run("zip", ["-q", "evil.zip", "aa.txt", "disk.img"], { cwd: dir });
    // Same length, so the zip stays valid: the entry now reads "../txt".
    const bytes = await readFile(join(dir, "evil.zip"));
    await writeFile(
      join(dir, "evil.zip"),
      Buffer.from(bytes.toString("latin1").replaceAll("aa.txt", "../txt"), "latin1"),
    );
    p.src.serve("/evil.zip", { path: join(dir, "evil.zip") });
    const id = await createBuild(p, { name: "evil", src: `${p.src.url}/evil.zip` });
    const build = await expectError(p, id, "unsafe_archive", "unpack");
    assert.match(build.error.message, /leads out/);
  });
});
