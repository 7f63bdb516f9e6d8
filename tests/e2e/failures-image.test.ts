/** Failure paths of the image and the cloud: a backing file, no disk image at all, a full Pithos. */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
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
  SMALL_USER,
  suitePipeline,
} from "./pipeline-harness.ts";

describeEachRelease("e2e: image and cloud failures", (synnefo) => {
  let p: Pipeline;
  let raw: string;

  suitePipeline(synnefo, async (started) => {
    p = started;
    raw = (await buildTestDisk({ path: join(p.dir, "source.raw"), diskMiB: 64, swap: false })).path;
  });

  it("a qcow2 with a backing file ends ERROR backing_file_refused", async () => {
    const overlay = join(p.dir, "overlay.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", raw, overlay]);
    p.src.serve("/overlay.qcow2", { path: overlay });
    const id = await createBuild(p, { name: "overlay", src: `${p.src.url}/overlay.qcow2` });
    const build = await expectError(p, id, "backing_file_refused", "inspect");
    assert.match(build.error.message, /backing file/);
    assert.match(build.error.hint ?? "", /self-contained|flatten/);
  });

  it("a file that is no disk image ends ERROR not_a_disk_image", async () => {
    const text = join(p.dir, "readme.img");
    await writeFile(text, "This is a README, not a disk.\n".repeat(50));
    p.src.serve("/readme.img", { path: text });
    const id = await createBuild(p, { name: "text", src: `${p.src.url}/readme.img` });
    const build = await expectError(p, id, "not_a_disk_image", "inspect");
    assert.match(build.error.message, /not a disk image/);
  });

  it("a Pithos account over its quota ends ERROR quota_exceeded, with no object left", async () => {
    const zip = await makeBitnamiZip({ raw, dir: p.dir });
    p.src.serve(`/${zip.name}.zip`, { path: zip.path });
    const id = await createBuild(p, { name: "big", src: `${p.src.url}/${zip.name}.zip` }, SMALL_USER.token);
    const build = await expectError(p, id, "quota_exceeded", "upload", SMALL_USER.token);
    assert.match(build.error.message, /^Pithos quota exceeded: /);
    assert.match(build.error.hint ?? "", /quota/);
    await assert.rejects(
      p.pithos(SMALL_USER.token, SMALL_USER.uuid).headObject(build.image.container, build.image.object),
    );
  });
});
