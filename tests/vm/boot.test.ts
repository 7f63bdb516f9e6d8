/**
 * The boot test (issue 9): a real, bootable Bitnami-like Debian 12 zip through service + devcloud + agent to
 * COMPLETED; the published diskdump searched for every secret of the source; then the image deployed as a
 * new server on the devcloud's qemu driver, as Cyclades and snf-image would, and used as a user would:
 * ssh with the key from the personality, first boot, host keys, machine-id, DHCP, no failed unit, a reboot.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultConfig } from "@icaas/devcloud";
import { type Build, createBuild, type Pipeline, startPipeline, waitBuild } from "../e2e/pipeline-harness.ts";
import { publishedImageChecks, QEMU_FLAVOR } from "./published-image-checks.ts";
import { type BootableSource, ensureBootableSource } from "./source/bootable-source.ts";
import { assertNoQemuLeft } from "./vm-harness.ts";

let p: Pipeline | undefined;
let source: BootableSource;
const times: Record<string, number> = {};

before(async () => {
  const t0 = Date.now();
  source = await ensureBootableSource();
  times.sourceMs = Date.now() - t0;
  p = await startPipeline({
    devcloud: {
      flavors: [...defaultConfig().flavors, QEMU_FLAVOR],
      qemu: { accel: "tcg", powerOffSeconds: 20 },
    },
    service: { buildTimeoutSeconds: 900 },
  });
});

after(async () => {
  const dir = p?.dir;
  await p?.close();
  console.log(`boot test times (ms): ${JSON.stringify(times)}`);
  if (dir) assertNoQemuLeft(dir);
});

describe("boot test: the published image deploys and boots as on Synnefo", () => {
  let build: Build | undefined;

  it("builds the bootable source to COMPLETED through service, devcloud and agent", async () => {
    const pipe = p as Pipeline;
    pipe.src.serve("/downloads/source.zip", { path: source.zip });
    const t0 = Date.now();
    const id = await createBuild(pipe, {
      name: "Bootable Debian 12",
      src: `${pipe.src.url}/downloads/source.zip`,
      public: true,
    });
    build = await waitBuild(pipe, id, { timeoutMs: 600_000 });
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error ?? build.log_tail));
    times.buildMs = Date.now() - t0;
  });

  publishedImageChecks({ pipeline: () => p, build: () => build, source: () => source, times });
});
