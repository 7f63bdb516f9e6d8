/**
 * Agent VMs on the qemu driver (issue 12), and the boot test (issue 9): the agent image (deploy/agent-image/)
 * booted by the devcloud under QEMU as the service's agent VM, with the manifest and /.icaas as personality
 * files, builds the bootable Bitnami-like Debian 12 source to COMPLETED; the published image is then scanned
 * for the source's secrets, deployed as a new server on the qemu driver as Cyclades and snf-image would, and
 * used as a user would (ssh with the key from the personality, first boot, host keys, machine-id, DHCP, no
 * failed unit, a reboot, DELETE). A cancel during the download ends CANCELED with QEMU gone.
 * The guest reaches the service, the cloud and the source at 10.0.2.2 (the host in QEMU's user network),
 * through the guest-visible URLs the service (`agentUrl`, `agentAuthUrl`) and the devcloud (`guestUrl`)
 * publish. The same build through the process driver (the agent as a host process) is the e2e suite's
 * (tests/e2e/build-pipeline.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AGENT_IMAGE_ID, defaultConfig } from "@icaas/devcloud";
import {
  api,
  type Build,
  createBuild,
  type Pipeline,
  serverOf,
  startPipeline,
  waitBuild,
  waitVmGone,
} from "../e2e/pipeline-harness.ts";
import { ensureAgentImage } from "./agent-image.ts";
import { publishedImageChecks, QEMU_FLAVOR } from "./published-image-checks.ts";
import { type BootableSource, ensureBootableSource } from "./source/bootable-source.ts";
import {
  adminServer,
  assertNoQemuLeft,
  consoleOf,
  freeLoopbackPort,
  qemuProcessesUnder,
  until,
  waitQemuGoneAndDiskRemoved,
} from "./vm-harness.ts";

/** The host as a guest on QEMU's user network sees it; QEMU forwards it to the host's 127.0.0.1. */
const HOST_IN_GUEST = "10.0.2.2";
/** The agent's flavor: 2 vCPUs (MTTCG), 1 GiB, a 6 GiB disk (≥ 3× the 1.5 GiB source). */
const AGENT_FLAVOR = { id: 4, name: "C2R1024D6qemu", vcpus: 2, ram: 1024, disk: 6, driver: "qemu" as const };
/** What the agent prints on the VM's console as it starts (the nonce is cut off). */
const MANIFEST_LINE = "fetching the manifest from";

let p: Pipeline | undefined;
let source: BootableSource;
let servicePort = 0;
const times: Record<string, number> = {};

before(async () => {
  const t0 = Date.now();
  const image = await ensureAgentImage();
  source = await ensureBootableSource();
  times.imagesMs = Date.now() - t0;
  servicePort = await freeLoopbackPort();
  p = await startPipeline({
    devcloud: {
      flavors: [...defaultConfig().flavors, AGENT_FLAVOR, QEMU_FLAVOR],
      images: [
        {
          id: AGENT_IMAGE_ID,
          name: "ICaaS agent (Debian 12)",
          file: image,
          metadata: { OS: "debian", OSFAMILY: "linux", ROOT_PARTITION: "1", USERS: "root" },
        },
      ],
      qemu: { accel: "tcg", powerOffSeconds: 10 },
    },
    service: (cloud) => ({
      port: servicePort,
      agentFlavorId: String(AGENT_FLAVOR.id),
      agentUrl: `http://${HOST_IN_GUEST}:${servicePort}`,
      agentAuthUrl: `http://${HOST_IN_GUEST}:${cloud.port}/identity/v2.0`,
      // The source server listens on the host's loopback: the guest reaches it at 10.0.2.2.
      sourceAllowList: [`${HOST_IN_GUEST}/32`],
      manifestTimeoutSeconds: 600,
      agentSilenceSeconds: 300,
      buildTimeoutSeconds: 1500,
    }),
  });
});

after(async () => {
  const dir = p?.dir;
  await p?.close();
  console.log(`agent VM test times (ms): ${JSON.stringify(times)}`);
  if (dir) assertNoQemuLeft(dir);
});

/** The source's URL as the guest reaches it. */
function guestSrc(path: string): string {
  return `http://${HOST_IN_GUEST}:${new URL((p as Pipeline).src.url).port}${path}`;
}

/** Waits for the build's VM to run QEMU, then for its console to show the agent reading its manifest. */
async function bootToManifest(id: number): Promise<{ serverId: number; ms: number }> {
  const pipe = p as Pipeline;
  const server = await until("the agent VM", () => serverOf(pipe, id), 120_000);
  await until(
    "QEMU started",
    async () => (await adminServer(pipe.cloud.url, server.id)).process?.state === "running",
    300_000,
    250,
  );
  const started = Date.now();
  await until(
    "the agent reading its manifest on the console",
    async () => (await consoleOf(pipe.cloud.url, server.id)).includes(MANIFEST_LINE),
    600_000,
    250,
  );
  return { serverId: server.id, ms: Date.now() - started };
}

describe("agent VMs on the qemu driver", () => {
  let built: Build | undefined;

  it("builds the bootable source to COMPLETED with the agent inside a QEMU VM", async () => {
    const pipe = p as Pipeline;
    pipe.src.serve("/downloads/source.zip", { path: source.zip });
    const t0 = Date.now();
    const id = await createBuild(pipe, {
      name: "Bootable Debian 12 (agent VM)",
      src: guestSrc("/downloads/source.zip"),
      public: true,
    });
    const boot = await bootToManifest(id);
    times.bootToManifestMs = boot.ms;
    const consoleText = await consoleOf(pipe.cloud.url, boot.serverId);
    assert.match(consoleText, /starting QEMU \(tcg/, "the agent VM runs under QEMU");
    assert.ok(
      consoleText.includes(
        `${MANIFEST_LINE} http://${HOST_IN_GUEST}:${servicePort}/icaas/builds/agent/${id}/…`,
      ),
      "the agent read its manifest at the service's guest-visible URL",
    );
    const build = await waitBuild(pipe, id, { timeoutMs: 1_500_000 });
    times.buildMs = Date.now() - t0;
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error ?? build.log_tail));
    built = build;
    assert.ok(
      pipe.src.requests.some((r) => r.path === "/downloads/source.zip"),
      "the guest downloaded the source",
    );
    // Its VM is deleted: QEMU gone, the disk removed (after the power-off, which follows the deletion).
    const vm = await adminServer(pipe.cloud.url, boot.serverId);
    await waitVmGone(pipe, id, 120_000);
    await waitQemuGoneAndDiskRemoved(pipe.cloud.url, boot.serverId, vm.disk as string);
  });

  // The image the agent VM published, checked as the boot test checks it.
  publishedImageChecks({ pipeline: () => p, build: () => built, source: () => source, times });

  it("cancel during the download: CANCELED, QEMU gone, the disk removed", async () => {
    const pipe = p as Pipeline;
    // About 2 MiB/s: the 150 MiB zip takes over a minute, the cancel lands mid-download.
    pipe.src.serve("/slow/source.zip", { path: source.zip, bytesPerSecond: 2 << 20 });
    const id = await createBuild(pipe, { name: "to cancel (agent VM)", src: guestSrc("/slow/source.zip") });
    const boot = await bootToManifest(id);
    await waitBuild(pipe, id, {
      until: (b) =>
        b.steps.some((s) => s.name === "download" && s.state === "running" && (s.bytes_done ?? 0) > 0),
      timeoutMs: 300_000,
    });
    const vm = await adminServer(pipe.cloud.url, boot.serverId);
    assert.equal(vm.driver, "qemu");
    assert.ok(vm.pid && qemuProcessesUnder(vm.disk as string).length === 1, "QEMU runs the agent VM");
    const answer = await api(pipe, `/builds/${id}`, { method: "PUT", body: { action: "cancel" } });
    assert.equal(answer.status, 204);
    assert.equal((await waitBuild(pipe, id)).status, "CANCELED");
    await waitQemuGoneAndDiskRemoved(pipe.cloud.url, boot.serverId, vm.disk as string);
    assert.deepEqual(qemuProcessesUnder(vm.disk as string), []);
    const later = (await api(pipe, `/builds/${id}`)).body?.build;
    assert.equal(later?.status, "CANCELED");
    assert.equal(later?.image_id, null);
  });
});
