/**
 * @module tests/vm/published-image-checks — the checks of a published image, as a user of Synnefo relies on
 * them, registered as `it`s inside the caller's `describe`: the diskdump holds none of the source's secrets;
 * deployed as a new server on the devcloud's qemu driver (as Cyclades and snf-image would) with a key in the
 * personality, it boots and ssh logs in; first boot ran once, after the network was up, and removed itself;
 * host keys and machine-id are new, there is a DHCP lease, no unit failed; after a reboot first boot does not
 * run again; DELETE removes the VM. Used by the boot test (agent-vm.test.ts) and the layouts' variants.
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { it } from "node:test";
import { DEMO_TOKEN, defaultConfig } from "@icaas/devcloud";
import { CycladesClient, personalityFile } from "@icaas/synnefo";
import { type Build, type Pipeline, startPipeline } from "../e2e/pipeline-harness.ts";
import { FIRST_BOOT, firstBootDone, type GuestFacts, guestFacts, problems, stepOk } from "./guest-checks.ts";
import { type Guest, guest, makeSshKey, waitForSsh } from "./guest-ssh.ts";
import { findNeedles } from "./scan-markers.ts";
import { type BootableSource, sourceSecrets } from "./source/bootable-source.ts";
import {
  type AdminServer,
  adminServer,
  consoleOf,
  qemuProcessesUnder,
  until,
  waitQemuGoneAndDiskRemoved,
} from "./vm-harness.ts";

/** A flavor on the qemu driver: 2 vCPUs (MTTCG), 1 GiB, a 4 GiB disk (the source is 1.5 GiB). */
export const QEMU_FLAVOR = {
  id: 3,
  name: "C2R1024D4qemu",
  vcpus: 2,
  ram: 1024,
  disk: 4,
  driver: "qemu" as const,
};

/** A pipeline whose devcloud has QEMU_FLAVOR (TCG) and whose service waits long enough for a TCG build. */
export function startQemuPipeline(): Promise<Pipeline> {
  return startPipeline({
    devcloud: {
      flavors: [...defaultConfig().flavors, QEMU_FLAVOR],
      qemu: { accel: "tcg", powerOffSeconds: 20 },
    },
    service: { buildTimeoutSeconds: 900 },
  });
}

export interface PublishedImage {
  /** The pipeline that built it; its devcloud has `flavor`. Read when the checks run. */
  pipeline: () => Pipeline | undefined;
  /** The build that published it (the checks need it COMPLETED). */
  build: () => Build | undefined;
  /** The source it was built from: its secrets, machine-id and host keys must not be in the image. */
  source: () => BootableSource;
  /** The qemu flavor to deploy it with (default QEMU_FLAVOR). */
  flavor?: { id: number };
  /** Where the steps' durations go: scanMs, deployMs, bootToSshMs, firstBootMs, rebootMs. */
  times?: Record<string, number>;
  /**
   * Checks of the caller's own on the booted guest, registered as one more `it` (named `what`) after
   * first boot and before the reboot: what a layout variant adds (its firmware, partitions, mounts).
   */
  guestChecks?: { what: string; run: (guest: Guest, server: AdminServer) => Promise<void> };
}

/**
 * Registers, in order, the `it`s that check the published image of `image.build()`. Call it inside a
 * `describe`, after the `it` that builds; they run one after the other (each needs the one before).
 * Each has a timeout above its own waits, so that a hang anywhere else fails it instead of the run.
 */
export function publishedImageChecks(image: PublishedImage): void {
  const flavorRef = (image.flavor ?? QEMU_FLAVOR).id;
  const times = image.times ?? {};
  let build: Build;
  let g: Guest | undefined;
  let serverId = "";
  let first: GuestFacts | undefined;
  const pipeline = () => image.pipeline() as Pipeline;
  const completed = () => {
    const b = image.build();
    assert.ok(b?.status === "COMPLETED", "needs the build");
    build = b;
  };
  const sourceFacts = () => ({
    machineId: image.source().manifest.machineId,
    hostKeyFingerprints: image.source().manifest.hostKeys.map((k) => k.fingerprint),
  });
  const compute = () =>
    new CycladesClient({ computeUrl: `${pipeline().cloud.url}/compute/v2.0`, token: DEMO_TOKEN, retries: 0 });

  it("leaves no byte of the source's secrets anywhere in the published diskdump", {
    timeout: 600_000,
  }, async () => {
    completed();
    const t1 = Date.now();
    const object = await pipeline().pithos().getObject(build.image.container, build.image.object);
    const left = await findNeedles(object.body as AsyncIterable<Uint8Array>, sourceSecrets(image.source()));
    times.scanMs = Date.now() - t1;
    assert.deepEqual(left, [], "secrets of the source found in the published image");
  });

  it("deploys it on the qemu driver with a key in the personality; it boots and ssh logs in", {
    timeout: 600_000,
  }, async () => {
    completed();
    const pipe = pipeline();
    const key = await makeSshKey(pipe.dir);
    const t2 = Date.now();
    const server = await compute().createServer({
      name: "booted",
      imageRef: build.image_id as string,
      flavorRef,
      personality: [personalityFile("/root/.ssh/authorized_keys", `${key.publicLine}\n`, { mode: 0o600 })],
    });
    serverId = server.id;
    assert.match(server.adminPass ?? "", /^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{10,}$/, "Cyclades' adminPass");
    await until(
      "ACTIVE",
      async () => ((await compute().getServer(server.id)).status === "ACTIVE" ? true : undefined),
      180_000,
    );
    times.deployMs = Date.now() - t2;
    const vm = await adminServer(pipe.cloud.url, server.id);
    assert.equal(vm.driver, "qemu");
    const port = vm.ports.ssh as number;
    assert.ok(port > 0, "the admin API reports the forwarded SSH port");
    const guestNow = guest(port, key);
    const t3 = Date.now();
    await waitForSsh(guestNow, 300_000).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\nconsole:\n${(await consoleOf(pipe.cloud.url, server.id)).slice(-3000)}`,
      );
    });
    times.bootToSshMs = Date.now() - t3;
    g = guestNow;
    assert.equal((await g.must("stat -c %a /root/.ssh/authorized_keys")).trim(), "600");
    // The password Cyclades returned is set for the image's USERS.
    const users = (await pipe.plankton().head(build.image_id as string)).properties.users ?? "root";
    for (const user of users.split(" ").filter(Boolean))
      assert.match(
        (await g.must(`getent shadow ${user} | cut -d: -f2`)).trim(),
        /^\$6\$/,
        `${user}'s password`,
      );
  });

  it("ran first boot once, after the network was up: new host keys and machine-id, a lease, no failed unit", {
    timeout: 480_000,
  }, async () => {
    assert.ok(g, "needs the booted guest");
    const t4 = Date.now();
    await until("first boot to finish", () => firstBootDone(g as Guest), 360_000, 3000).catch(
      async (error: Error) => {
        throw new Error(`${error.message}\n${await firstBootState(g as Guest)}`);
      },
    );
    times.firstBootMs = Date.now() - t4;
    first = await guestFacts(g);
    assert.deepEqual(problems(first, sourceFacts()), [], `first boot log:\n${first.firstBootLog}`);
    assert.ok(
      first.addresses.some((a) => a.startsWith("10.0.2.")),
      `QEMU's DHCP address: ${first.addresses}`,
    );
    assert.ok(await networkStepsRan(g, first), `network steps:\n${first.firstBootLog}`);
  });

  const extra = image.guestChecks;
  if (extra)
    it(extra.what, { timeout: 300_000 }, async () => {
      assert.ok(g && first, "needs the first boot");
      await extra.run(g, await adminServer(pipeline().cloud.url, serverId));
    });

  it("after a reboot: first boot does not run again, sshd is up, still no failed unit", {
    timeout: 420_000,
  }, async () => {
    assert.ok(g && first, "needs the first boot");
    await g.run("systemctl reboot", 15_000);
    const t5 = Date.now();
    const bootId = first.bootId;
    await until(
      "the guest back after its reboot",
      async () => {
        const r = await (g as Guest).run("cat /proc/sys/kernel/random/boot_id", 15_000);
        return r.code === 0 && r.stdout.trim() !== bootId;
      },
      300_000,
      3000,
    );
    times.rebootMs = Date.now() - t5;
    const second = await guestFacts(g);
    assert.deepEqual(problems(second, sourceFacts()), [], `after the reboot:\n${second.firstBootLog}`);
    assert.equal(second.firstBootLog, first.firstBootLog, "first boot did not run again");
    assert.equal(second.machineId, first.machineId, "the machine-id stays");
  });

  it("DELETE powers the VM off and removes its disk", { timeout: 300_000 }, async () => {
    assert.ok(serverId, "needs the server");
    const pipe = pipeline();
    const before = await adminServer(pipe.cloud.url, serverId);
    await compute().deleteServer(serverId);
    await waitQemuGoneAndDiskRemoved(pipe.cloud.url, serverId, before.disk as string);
    assert.deepEqual(qemuProcessesUnder(pipe.dir), []);
  });
}

/** Where an unfinished first boot is: its log, its unit, what apt/dpkg is doing (for a timeout's message). */
async function firstBootState(g: Guest): Promise<string> {
  const r = await g.run(
    `cat ${FIRST_BOOT.log}; systemctl status --no-pager -n 20 ${basename(FIRST_BOOT.unit)}; ps -eo etime,args | grep -E 'apt|dpkg' | grep -v grep; uptime`,
    30_000,
  );
  return `first boot so far (ssh exit ${r.code}):\n${r.stdout}${r.stderr}`;
}

/** The update and network-management steps are in the first-boot log, and what they install is installed. */
async function networkStepsRan(g: Guest, facts: GuestFacts): Promise<boolean> {
  const log = facts.firstBootLog;
  if (!log.includes(stepOk("update-software"))) return false;
  if (!log.includes(stepOk("install-network-management"))) return false;
  const r = await g.run("dpkg -s network-manager | grep '^Status:'");
  return r.stdout.includes("install ok installed");
}
