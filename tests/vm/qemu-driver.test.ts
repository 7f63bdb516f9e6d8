/**
 * The devcloud's qemu driver with a real boot: BUILD → ACTIVE, the serial console over the admin API, a
 * crash of the devcloud (QEMU taken back), a clean restart (QEMU stopped, then started again), DELETE
 * (QEMU gone, disk removed). No QEMU may survive the test.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CycladesClient } from "@icaas/synnefo";
import { bootableRaw } from "./bootable-raw.ts";
import {
  adminServer,
  assertNoQemuLeft,
  consoleOf,
  type DevcloudProcess,
  isAlive,
  qemuProcessesUnder,
  startDevcloudProcess,
  until,
} from "./vm-harness.ts";

const TOKEN = "demo-token-0123456789abcdefghijklmnopqrstu";
const IMAGE_ID = "9b1f0c1e-0000-4000-8000-000000000001";
/** The serial getty's "<host> login: " prompt: the guest booted all the way (kernel messages may follow it on its line). */
const BOOTED = /^\S+ login: /m;
const BOOT_MS = 240_000;

let dir: string;
let cloud: DevcloudProcess | undefined;
let args: string[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-vm-driver-"));
  const raw = await bootableRaw();
  const config = {
    computeDriver: "qemu",
    flavors: [{ id: 1, name: "C1R1024D3", vcpus: 2, ram: 1024, disk: 3 }],
    images: [
      {
        id: IMAGE_ID,
        name: "bootable test source",
        file: raw.path,
        metadata: { OSFAMILY: "linux", ROOT_PARTITION: String(raw.rootPartition), USERS: "root" },
      },
    ],
    qemu: { accel: "tcg", powerOffSeconds: 5 },
  };
  await writeFile(join(dir, "config.json"), JSON.stringify(config));
  args = ["--data", join(dir, "data"), "--config", join(dir, "config.json")];
});

after(async () => {
  await cloud?.crash().catch(() => undefined);
  try {
    assertNoQemuLeft(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const cyclades = () =>
  new CycladesClient({ computeUrl: `${cloud?.url}/compute/v2.0`, token: TOKEN, retries: 0 });

describe("the qemu compute driver", () => {
  it("deploys and boots a server, survives devcloud restarts without losing or leaking QEMU, and deletes it", async () => {
    cloud = await startDevcloudProcess(args);
    const t0 = Date.now();
    const created = await cyclades().createServer({
      name: "vm",
      imageRef: IMAGE_ID,
      flavorRef: "1",
      personality: [],
    });
    const id = String(created.id);
    assert.equal(created.status, "BUILD");
    const active = await until(
      "ACTIVE",
      async () => ((await cyclades().getServer(id)).status === "ACTIVE" ? true : undefined),
      120_000,
    );
    assert.ok(active);
    const deployedMs = Date.now() - t0;
    const first = await adminServer(cloud.url, id);
    assert.equal(first.driver, "qemu");
    assert.ok(first.pid && isAlive(first.pid), "QEMU runs");
    assert.ok(first.ports.ssh && first.ports.ssh > 0, "an SSH port is forwarded");
    assert.ok(first.disk && existsSync(first.disk));
    const console1 = await until(
      "a login prompt on the serial console",
      async () => BOOTED.test(await consoleOf(cloud!.url, id)),
      BOOT_MS,
      1000,
    );
    assert.ok(console1);
    console.log(`qemu driver: ACTIVE after ${deployedMs} ms, login prompt after ${Date.now() - t0} ms`);

    // A crash of the devcloud leaves QEMU running; the next devcloud takes it back.
    await cloud.crash();
    assert.ok(isAlive(first.pid), "QEMU outlives a crashed devcloud");
    cloud = await startDevcloudProcess(args);
    const back = await adminServer(cloud.url, id);
    assert.equal(back.status, "ACTIVE");
    assert.equal(back.pid, first.pid, "the same QEMU, taken back");
    assert.equal(back.process?.state, "running");
    assert.deepEqual(qemuProcessesUnder(dir), [first.pid]);

    // A clean stop powers the VM off; the next start powers it on again.
    await cloud.stop();
    assert.ok(!isAlive(first.pid), "a clean stop leaves no QEMU");
    assert.deepEqual(qemuProcessesUnder(dir), []);
    cloud = await startDevcloudProcess(args);
    const again = await adminServer(cloud.url, id);
    assert.equal(again.status, "ACTIVE");
    assert.ok(again.pid && again.pid !== first.pid && isAlive(again.pid), "powered on again");
    assert.equal(again.ports.ssh, first.ports.ssh, "the VM keeps its SSH port");
    assert.match(await consoleOf(cloud.url, id), /taken back|starting QEMU/);

    // DELETE: powered off (ACPI, then killed after the grace period), the disk removed.
    await cyclades().deleteServer(id);
    assert.equal((await cyclades().getServer(id)).status, "DELETED");
    await until("QEMU gone", () => !isAlive(again.pid as number), 30_000);
    await until("the disk removed", () => !existsSync(again.disk as string), 10_000);
    assert.deepEqual(qemuProcessesUnder(dir), []);
    await cloud.stop();
    cloud = undefined;
  });
});
