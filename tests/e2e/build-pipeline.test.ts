/**
 * The whole path: a Bitnami-style zip on a local HTTP server → a build through the real service,
 * devcloud and agent → a registered, prepared image in Pithos, read back and checked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { makeBitnamiZip } from "@icaas/agent/testing";
import { LOG_TAIL_LINES, STEP_NAMES } from "@icaas/contract";
import { DEMO_USER_UUID } from "@icaas/devcloud";
import { inspectImage } from "@icaas/imageprep";
import { buildTestDisk, guestCat, guestLs, guestStat, verifyPreparedDebian } from "@icaas/imageprep/testing";
import {
  createBuild,
  describeEachRelease,
  download,
  type Pipeline,
  run,
  suitePipeline,
  waitBuild,
  waitVmGone,
} from "./pipeline-harness.ts";

describeEachRelease("e2e: Bitnami zip → COMPLETED image", (synnefo) => {
  let p: Pipeline;
  let zipUrl: string;

  suitePipeline(synnefo, async (started) => {
    p = started;
    const disk = await buildTestDisk({ path: join(p.dir, "source.raw"), diskMiB: 96 });
    const zip = await makeBitnamiZip({ raw: disk.path, dir: p.dir });
    p.src.serve(`/downloads/${zip.name}.zip`, { path: zip.path });
    zipUrl = `${p.src.url}/downloads/${zip.name}.zip`;
  });

  it("builds, registers and reports the image, and destroys the VM", async () => {
    const id = await createBuild(p, {
      name: "Foo 1.0",
      src: zipUrl,
      description: "Foo app on Debian 12",
      public: true,
    });
    const build = await waitBuild(p, id);
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error ?? build.log_tail));
    assert.equal(build.progress, 100);
    assert.deepEqual(
      build.steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`),
      STEP_NAMES.map((s) => `${s}:done`),
    );
    for (const s of build.steps) {
      assert.ok(s.started && s.finished, `${s.name} has times`);
      assert.equal(s.bytes_done, s.bytes_total, `${s.name} bytes`);
    }
    assert.equal(build.status_details.details, "image creation finished");
    assert.equal(build.error, null);
    const { container, object } = build.image as { container: string; object: string };
    const location = `pithos://${DEMO_USER_UUID}/${container}/${object}`;
    assert.equal(build.image_location, location);

    // Plankton: a public diskdump at the right place, with imageprep's metadata and the description.
    assert.ok(build.image_id);
    const image = await p.plankton().head(build.image_id);
    assert.equal(image.diskFormat, "diskdump");
    assert.equal(image.containerFormat, "bare");
    assert.equal(image.location, location);
    assert.equal(image.isPublic, true);
    assert.equal(image.name, "Foo 1.0");
    assert.equal(image.properties.osfamily, "linux");
    assert.equal(image.properties.root_partition, "1");
    assert.equal(image.properties.os, "debian");
    assert.equal(image.properties.description, "Foo app on Debian 12");
    const users = image.properties.users?.split(" ") ?? [];
    assert.ok(users.includes("admin"), `USERS=${image.properties.users}`);
    const meta = JSON.parse(await (await p.pithos().getObject(container, `${object}.meta`)).body.text());
    assert.equal(meta.id, build.image_id);

    // The object itself, read back: a valid table, a clean filesystem, prepared.
    const raw = join(p.dir, "readback.raw");
    await download(p.pithos(), container, object, raw);
    await run("sfdisk", ["-V", raw]);
    const inspection = await inspectImage(raw);
    const root = inspection.root!;
    assert.equal(root.partition, 1);
    await run("e2fsck", ["-fn", `${raw}?offset=${root.offset}`]);
    await verifyPreparedDebian(raw, root.offset, root.filesystem.uuid!, { mail: "removed" });
    const shadow = (await guestCat(raw, root.offset, "/etc/shadow")) ?? "";
    for (const line of shadow.trim().split("\n")) {
      const hash = line.split(":")[1] ?? "";
      assert.ok(hash.startsWith("!") || hash === "*", `account locked: ${line.split(":")[0]}`);
    }
    assert.deepEqual(
      (await guestLs(raw, root.offset, "/etc/ssh")).filter((f) => f.startsWith("ssh_host_")),
      [],
      "SSH host keys gone",
    );
    const wants = await guestStat(
      raw,
      root.offset,
      "/etc/systemd/system/multi-user.target.wants/icaas-first-boot.service",
    );
    assert.equal(
      wants?.target,
      "/etc/systemd/system/icaas-first-boot.service",
      "the first-boot unit is enabled",
    );

    // The log object names every step; the last lines are on the build.
    const log = await (await p.pithos().getObject(build.log.container, build.log.object)).body.text();
    for (const step of STEP_NAMES.slice(1)) assert.match(log, new RegExp(`step ${step}: started`), step);
    assert.match(log, / INFO image creation finished\n/);
    const tail = build.log_tail ?? [];
    assert.ok(tail.length > 5 && tail.length <= LOG_TAIL_LINES, `${tail.length} lines on the build`);

    const vm = await waitVmGone(p, id);
    assert.equal(vm.status, "DELETED");
  });
});
