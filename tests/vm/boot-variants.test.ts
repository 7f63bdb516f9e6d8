/**
 * The boot test on other layouts (issue 13): the bootable Debian 12 source with its root on XFS, on btrfs
 * (subvolume @) and on ext4 in an LVM volume (/boot apart), each through service + devcloud + agent to
 * COMPLETED with the right metadata, then the same checks as the boot test (secrets scan, deploy on the
 * qemu driver, ssh with the injected key, first boot once, new keys, no failed unit, reboot, DELETE).
 * One pipeline serves the three: a devcloud and a service started once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Build, createBuild, type Pipeline, waitBuild } from "../e2e/pipeline-harness.ts";
import { publishedImageChecks, QEMU_FLAVOR, startQemuPipeline } from "./published-image-checks.ts";
import {
  type BootableSource,
  ensureBootableSource,
  type SourceVariant,
  variantName,
} from "./source/bootable-source.ts";
import { assertNoQemuLeft } from "./vm-harness.ts";

const VARIANTS: Array<{ variant: SourceVariant; what: string }> = [
  { variant: { fs: "xfs" }, what: "root on XFS" },
  { variant: { fs: "btrfs" }, what: "root on btrfs subvolume @" },
  { variant: { fs: "ext4", lvm: true }, what: "root on ext4 in LVM volume debian-vg/root, /boot apart" },
];

let p: Pipeline | undefined;
const times: Record<string, Record<string, number>> = {};

before(async () => {
  p = await startQemuPipeline();
});

after(async () => {
  const dir = p?.dir;
  await p?.close();
  console.log(`boot variants times (ms): ${JSON.stringify(times)}`);
  if (dir) assertNoQemuLeft(dir);
});

for (const { variant, what } of VARIANTS) {
  const name = variantName(variant);
  describe(`boot test, ${what} (${name})`, () => {
    let source: BootableSource | undefined;
    let build: Build | undefined;
    const t: Record<string, number> = {};
    times[name] = t;

    it("builds the bootable source variant to COMPLETED through service, devcloud and agent", async () => {
      const t0 = Date.now();
      source = await ensureBootableSource({ variant });
      t.sourceMs = Date.now() - t0;
      const pipe = p as Pipeline;
      pipe.src.serve(`/downloads/${name}.zip`, { path: source.zip });
      const t1 = Date.now();
      const id = await createBuild(pipe, {
        name: `Bootable Debian 12 (${name})`,
        src: `${pipe.src.url}/downloads/${name}.zip`,
        public: true,
      });
      build = await waitBuild(pipe, id, { timeoutMs: 600_000 });
      assert.equal(build.status, "COMPLETED", JSON.stringify(build.error ?? build.log_tail));
      t.buildMs = Date.now() - t1;
    });

    it("registers the image, shrunk where its filesystem allows, with the metadata of its layout (OSFAMILY, OS, ROOT_PARTITION, …)", async () => {
      assert.ok(build?.status === "COMPLETED" && source, "needs the build");
      const { properties, size } = await (p as Pipeline).plankton().head(build.image_id as string);
      const root = source.manifest.disk.root;
      // Shrunk where the filesystem allows (btrfs; ext inside LVM: filesystem, volume, PV, partition);
      // XFS cannot shrink and keeps its size.
      const virtual = source.manifest.disk.virtualBytes;
      if (variant.fs === "xfs") assert.ok(size <= virtual, `${size} bytes of a ${virtual}-byte disk`);
      else assert.ok(size < 0.75 * virtual, `shrunk: ${size} bytes of a ${virtual}-byte disk`);
      assert.equal(properties.osfamily, "linux");
      assert.equal(properties.os, "bitnami");
      assert.equal(properties.root_partition, String(root.partition));
      assert.equal(properties.partition_table, "msdos");
      assert.equal(properties.kernel, source.manifest.os.kernel);
      assert.match(properties.users ?? "", /\bbitnami\b/);
    });

    publishedImageChecks({
      pipeline: () => p,
      build: () => build,
      source: () => source as BootableSource,
      times: t,
      // snf-image (and the devcloud, as it) grows only an ext filesystem on a partition: first boot grows these.
      guestChecks: {
        what: "first boot grew the root (its LVM volume, then its filesystem) to fill the deployed disk",
        run: async (guest) => {
          const rootBytes = Number((await guest.must("df -B1 --output=size / | tail -1")).trim());
          const diskBytes = QEMU_FLAVOR.disk * 2 ** 30;
          assert.ok(rootBytes > 0.8 * diskBytes, `/ is ${rootBytes} bytes on a ${diskBytes}-byte disk`);
          assert.ok(rootBytes > source!.manifest.disk.virtualBytes, "larger than the source's whole disk");
        },
      },
    });
  });
}
