/**
 * The qemu driver through the Cyclades API, with QEMU really started but on a disk without a boot loader
 * (the guest firmware just waits), so every state change takes seconds: deploy errors, ACTIVE with a
 * forwarded port, actions, the kill endpoint, a restart, DELETE. Real boots are in tests/vm.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { buildTestDisk } from "@icaas/imageprep/testing";
import { CycladesClient, personalityFile } from "@icaas/synnefo";
import { DEMO_TOKEN, type DevcloudConfig, defaultConfig } from "../../config.ts";
import { type Devcloud, startDevcloud } from "../../server.ts";

const IMAGE = "0d15c000-0000-4000-8000-000000000001";
const NO_FILE = "0d15c000-0000-4000-8000-000000000002";
const UEFI = "0d15c000-0000-4000-8000-000000000003";
const BAD_FIRMWARE = "0d15c000-0000-4000-8000-000000000004";

let dir: string;
let cloud: Devcloud | undefined;
let config: DevcloudConfig;

/** QEMU processes whose command line names this test's directory. */
function qemusHere(): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
        return /qemu-system/.test(argv[0] ?? "") && argv.some((a) => a.includes(dir));
      } catch {
        return false;
      }
    })
    .map(Number);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "devcloud-qemu-"));
  const disk = await buildTestDisk({ path: join(dir, "image.raw"), swap: false, diskMiB: 64 });
  config = {
    ...defaultConfig(),
    computeDriver: "qemu",
    bootSeconds: 0,
    flavors: [
      { id: 1, name: "small", vcpus: 1, ram: 128, disk: 1 },
      { id: 2, name: "process", vcpus: 1, ram: 128, disk: 1, driver: "process" },
    ],
    images: [
      {
        id: IMAGE,
        name: "no boot loader",
        file: disk.path,
        metadata: { OSFAMILY: "linux", ROOT_PARTITION: "1" },
      },
      { id: NO_FILE, name: "no file", metadata: { OSFAMILY: "linux" } },
      {
        id: UEFI,
        name: "UEFI",
        file: disk.path,
        metadata: { OSFAMILY: "linux", ROOT_PARTITION: "1", FIRMWARE: "uefi" },
      },
      {
        id: BAD_FIRMWARE,
        name: "bad firmware",
        file: disk.path,
        metadata: { OSFAMILY: "linux", ROOT_PARTITION: "1", FIRMWARE: "coreboot" },
      },
    ],
    qemu: { accel: "tcg", powerOffSeconds: 1 },
  };
  cloud = await startDevcloud({ dataDir: join(dir, "data"), config });
});

after(async () => {
  await cloud?.close();
  const left = qemusHere();
  for (const pid of left) process.kill(pid, "SIGKILL");
  await rm(dir, { recursive: true, force: true });
  assert.deepEqual(left, [], "no QEMU left behind");
});

const cyclades = () =>
  new CycladesClient({ computeUrl: `${cloud?.url}/compute/v2.0`, token: DEMO_TOKEN, retries: 0 });

interface Admin {
  status: string;
  driver: string;
  pid: number | null;
  process: { state: string } | null;
  ports: { ssh?: number };
  disk?: string;
  destroyed: boolean;
  firmware?: string;
  nvram?: string | null;
}

async function admin(id: string): Promise<Admin> {
  const { servers } = (await (await fetch(`${cloud?.url}/_devcloud/compute/servers`)).json()) as {
    servers: (Admin & { id: number })[];
  };
  return servers.find((s) => String(s.id) === id) as Admin;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const statusOf = async (id: string) => (await cyclades().getServer(id)).status;
const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("the qemu driver through the API", () => {
  it("ends in ERROR, with the reason on the console and no disk, when the image cannot be deployed", async () => {
    const badOwner = await cyclades().createServer({
      name: "x",
      imageRef: IMAGE,
      flavorRef: 1,
      personality: [personalityFile("/x", "x", { owner: "nobody-here" })],
    });
    const noFile = await cyclades().createServer({ name: "y", imageRef: NO_FILE, flavorRef: 1 });
    const badFirmware = await cyclades().createServer({ name: "z", imageRef: BAD_FIRMWARE, flavorRef: 1 });
    for (const [server, why] of [
      [badOwner, /no user 'nobody-here'/],
      [noFile, /has no "file"/],
      [badFirmware, /FIRMWARE property 'coreboot' is not valid/],
    ] as const) {
      await until("ERROR", async () => (await statusOf(server.id)) === "ERROR");
      const text = await (await fetch(`${cloud?.url}/_devcloud/compute/servers/${server.id}/console`)).text();
      assert.match(text, why);
      assert.ok(!existsSync((await admin(server.id)).disk as string), "the disk is removed");
    }
  });

  it("runs QEMU once ACTIVE, reports the SSH port, stops, starts, reboots, survives kill and restart, and DELETE removes it all", async () => {
    const server = await cyclades().createServer({ name: "vm", imageRef: IMAGE, flavorRef: 1 });
    await until("ACTIVE", async () => (await statusOf(server.id)) === "ACTIVE");
    const first = await admin(server.id);
    assert.equal(first.driver, "qemu");
    assert.ok(first.pid && alive(first.pid));
    assert.ok(first.ports.ssh && first.ports.ssh > 1024);
    assert.deepEqual(qemusHere(), [first.pid]);

    await cyclades().action(server.id, { shutdown: {} });
    await until("QEMU stopped", async () => !alive(first.pid as number));
    assert.equal(await statusOf(server.id), "STOPPED");
    await cyclades().action(server.id, { start: {} });
    const started = await until("QEMU again", async () => {
      const a = await admin(server.id);
      return a.pid !== first.pid && a.process?.state === "running" ? a : undefined;
    });
    assert.equal(started.ports.ssh, first.ports.ssh, "same port after a power cycle");
    await cyclades().action(server.id, { reboot: { type: "SOFT" } });
    const rebooted = await until("QEMU after reboot", async () => {
      const a = await admin(server.id);
      return a.pid !== started.pid && a.process?.state === "running" ? a : undefined;
    });
    assert.equal(await statusOf(server.id), "ACTIVE");

    const kill = await fetch(`${cloud?.url}/_devcloud/compute/servers/${server.id}/kill`, { method: "POST" });
    assert.equal(kill.status, 204);
    assert.ok(!alive(rebooted.pid as number));
    assert.equal((await admin(server.id)).process?.state, "killed");

    // A clean restart of the devcloud powers an ACTIVE VM on again.
    await cloud?.close();
    cloud = await startDevcloud({ dataDir: join(dir, "data"), config });
    const back = await admin(server.id);
    assert.equal(back.status, "ACTIVE");
    assert.ok(back.pid && alive(back.pid) && back.process?.state === "running");

    await cyclades().deleteServer(server.id);
    // The admin API says `destroyed` only once the delete has finished: QEMU gone, the disk removed.
    await until("the delete finished", async () => (await admin(server.id)).destroyed === true);
    assert.ok(!alive(back.pid as number), "QEMU is gone");
    assert.ok(!existsSync(back.disk as string), "the disk is removed");
    assert.equal(await statusOf(server.id), "DELETED");
    assert.deepEqual(qemusHere(), []);
  });

  it("boots an image whose FIRMWARE is uefi with OVMF and its own NVRAM, which DELETE removes", async () => {
    const bios = await cyclades().createServer({ name: "b", imageRef: IMAGE, flavorRef: 1 });
    const uefi = await cyclades().createServer({ name: "u", imageRef: UEFI, flavorRef: 1 });
    for (const s of [bios, uefi]) await until("ACTIVE", async () => (await statusOf(s.id)) === "ACTIVE");
    const b = await admin(bios.id);
    const u = await admin(uefi.id);
    assert.equal(b.firmware, "bios");
    assert.equal(b.nvram, null);
    assert.equal(u.firmware, "uefi");
    const nvram = u.nvram as string;
    assert.ok(existsSync(nvram), "the VM's variable store exists");
    const argv = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    assert.ok(!argv(b.pid as number).some((a) => a.includes("pflash")), "a BIOS VM has no flash");
    const pflash = argv(u.pid as number).filter((a) => a.startsWith("if=pflash"));
    assert.deepEqual(pflash, [
      "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
      `if=pflash,format=raw,unit=1,file=${nvram}`,
    ]);
    const console = await (await fetch(`${cloud?.url}/_devcloud/compute/servers/${uefi.id}/console`)).text();
    assert.match(console, /firmware: UEFI \(OVMF\)/);
    assert.match(console, /starting QEMU \(.*; UEFI\)/);

    for (const s of [bios, uefi]) await cyclades().deleteServer(s.id);
    await until("QEMUs gone", async () => !alive(b.pid as number) && !alive(u.pid as number));
    await until("disk and NVRAM removed", async () => !existsSync(u.disk as string) && !existsSync(nvram));
  });

  it("boots servers of a flavor with another driver on that driver", async () => {
    const server = await cyclades().createServer({ name: "p", imageRef: IMAGE, flavorRef: 2 });
    await until("ACTIVE", async () => (await statusOf(server.id)) === "ACTIVE");
    const a = await admin(server.id);
    assert.equal(a.driver, "process");
    assert.equal(a.pid, null, "a process-driver VM of a non-agent image runs nothing");
    await cyclades().deleteServer(server.id);
  });
});
