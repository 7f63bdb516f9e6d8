/**
 * The boot test of a GPT + UEFI disk (issue 13): the Bitnami-like Debian 12 source in Debian's cloud
 * layout (root on partition 1 last on disk, a BIOS boot partition 14, an ESP 15 with GRUB at
 * EFI/BOOT/BOOTX64.EFI, /boot/efi in fstab) through service, devcloud and agent to COMPLETED; the
 * published image says FIRMWARE=uefi, so the qemu driver deploys it on OVMF with its own NVRAM; then the
 * same checks as the boot test, plus: the guest really booted through UEFI, from the ESP the preparation
 * kept, the deployment grew root's partition to the disk's end with a valid GPT, and DELETE removes the
 * NVRAM with the disk.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type Build, createBuild, type Pipeline, waitBuild } from "../e2e/pipeline-harness.ts";
import type { Guest } from "./guest-ssh.ts";
import { publishedImageChecks, QEMU_FLAVOR, startQemuPipeline } from "./published-image-checks.ts";
import { type BootableSource, ensureBootableSource } from "./source/bootable-source.ts";
import { type AdminServer, assertNoQemuLeft, run } from "./vm-harness.ts";

let p: Pipeline | undefined;
let source: BootableSource;
const times: Record<string, number> = {};
let nvram: string | undefined;

before(async () => {
  const t0 = Date.now();
  source = await ensureBootableSource({ variant: { table: "gpt" } });
  times.sourceMs = Date.now() - t0;
  p = await startQemuPipeline();
});

after(async () => {
  const dir = p?.dir;
  await p?.close();
  console.log(`UEFI boot test times (ms): ${JSON.stringify(times)}`);
  if (dir) assertNoQemuLeft(dir);
  if (nvram) assert.ok(!existsSync(nvram), `the VM's NVRAM ${nvram} is removed with it`);
});

/** What the guest says about its firmware, its disk and its ESP. */
async function uefiChecks(g: Guest, vm: AdminServer): Promise<void> {
  assert.equal(vm.firmware, "uefi", "the driver booted it with OVMF");
  nvram = vm.nvram ?? undefined;
  assert.ok(nvram && existsSync(nvram), "the VM has its own variable store");
  // The kernel was started by UEFI firmware: it exposes EFI runtime services and variables.
  assert.equal((await g.run("test -d /sys/firmware/efi/efivars")).code, 0, "/sys/firmware/efi exists");
  const esp = source.manifest.disk.partitions.find((part) => part.type === "efi");
  assert.ok(esp?.fsUuid, "the source has an ESP");
  const mount = (await g.must("findmnt -n -o SOURCE,FSTYPE,UUID /boot/efi")).trim().split(/\s+/);
  assert.deepEqual(mount, ["/dev/vda15", "vfat", esp.fsUuid], "the ESP is mounted on /boot/efi by UUID");
  assert.equal((await g.run("test -s /boot/efi/EFI/BOOT/BOOTX64.EFI")).code, 0, "GRUB at the removable path");
  assert.equal((await g.must("findmnt -n -o SOURCE /")).trim(), "/dev/vda1", "root on partition 1");
  // The deployment grew partition 1 (last on disk) to 2048 sectors before the end of the 4 GiB disk, and
  // moved the backup GPT there (read on the host: the guest has no partitioning tools).
  const disk = vm.disk as string;
  const table = JSON.parse((await run("sfdisk", ["-J", disk])).stdout) as {
    partitiontable: { label: string; partitions: { node: string; start: number; size: number }[] };
  };
  assert.equal(table.partitiontable.label, "gpt");
  const root = table.partitiontable.partitions.find((part) => part.node.endsWith("disk.raw1"));
  const diskSectors = (QEMU_FLAVOR.disk * 2 ** 30) / 512;
  assert.equal((root?.start ?? 0) + (root?.size ?? 0), diskSectors - 2048, "root grown to the disk's end");
  assert.match((await run("sgdisk", ["-v", disk])).stdout, /No problems found/);
  const rootBytes = Number((await g.must("df -B1 --output=size / | tail -1")).trim());
  assert.ok(rootBytes > 3.5 * 2 ** 30, `the root filesystem grew with its partition (${rootBytes} bytes)`);
}

describe("UEFI boot test: a GPT + ESP image, prepared, deploys and boots on OVMF", () => {
  let build: Build | undefined;

  it("builds the GPT + UEFI source to COMPLETED; the image says FIRMWARE=uefi", async () => {
    const pipe = p as Pipeline;
    assert.equal(source.manifest.disk.table, "gpt");
    pipe.src.serve("/downloads/source.zip", { path: source.zip });
    const t0 = Date.now();
    const id = await createBuild(pipe, {
      name: "Bootable Debian 12 (GPT, UEFI)",
      src: `${pipe.src.url}/downloads/source.zip`,
      public: true,
    });
    build = await waitBuild(pipe, id, { timeoutMs: 600_000 });
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error ?? build.log_tail));
    times.buildMs = Date.now() - t0;
    const { properties } = await pipe.plankton().head(build.image_id as string);
    assert.equal(properties.firmware, "uefi");
    assert.equal(properties.partition_table, "gpt");
    assert.equal(properties.root_partition, String(source.manifest.disk.rootPartition));
  });

  publishedImageChecks({
    pipeline: () => p,
    build: () => build,
    source: () => source,
    times,
    guestChecks: { what: "booted through UEFI from the kept ESP, root grown, GPT valid", run: uefiChecks },
  });
});
