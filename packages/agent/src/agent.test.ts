import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MANIFEST_PATH, MARKER_PATH, STEP_NAMES, type StatusReport } from "@icaas/contract";
import { DEMO_TOKEN, DEMO_USER_UUID, type Devcloud, startDevcloud } from "@icaas/devcloud";
import { buildTestDisk } from "@icaas/imageprep/testing";
import { LOOPBACK_NETWORKS } from "@icaas/source-policy";
import { PithosClient, PlanktonClient } from "@icaas/synnefo";
import { runAgent } from "./agent.ts";
import { agentCommand } from "./testing/agent-command.ts";
import { makeBitnamiZip } from "./testing/bitnami-zip.ts";
import { type SourceServer, startSourceServer } from "./testing/source-server.ts";

/** The service's two agent routes, as the agent contract states them, recording every report. */
interface StatusEndpoint {
  url: string;
  reports: StatusReport[];
  tokens: (string | undefined)[];
  /** Answer 403 "Build is not active" to every report from the n-th on (a cancel). */
  refuseFrom: number;
  manifestUrl(build: number): string;
  setManifest(build: number, manifest: Record<string, Record<string, unknown>>): void;
  close(): Promise<void>;
}

async function startStatusEndpoint(): Promise<StatusEndpoint> {
  const manifests = new Map<number, Record<string, unknown>>();
  const endpoint: StatusEndpoint = {
    url: "",
    reports: [],
    tokens: [],
    refuseFrom: Number.POSITIVE_INFINITY,
    manifestUrl: (build) => `${endpoint.url}/icaas/builds/agent/${build}/nonce-${build}`,
    setManifest: (build, manifest) => manifests.set(build, manifest),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const m = /^\/icaas\/builds\/agent\/(\d+)(?:\/(.+))?$/.exec(req.url ?? "");
    if (req.method === "GET" && m?.[2]) {
      const manifest = manifests.get(Number(m[1]));
      manifests.delete(Number(m[1]));
      if (!manifest) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Manifest retrieval is forbidden", status: 403 }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ manifest }));
      return;
    }
    if (req.method === "PUT" && m && !m[2]) {
      if (endpoint.reports.length >= endpoint.refuseFrom) {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Build is not active", status: 403 }));
        return;
      }
      endpoint.tokens.push(req.headers["x-icaas-token"] as string | undefined);
      endpoint.reports.push(JSON.parse(body) as StatusReport);
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return endpoint;
}

describe("runAgent against a devcloud", () => {
  let dir: string;
  let cloud: Devcloud;
  let src: SourceServer;
  let status: StatusEndpoint;
  let zipName: string;
  let nextBuild = 1;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-agent-"));
    cloud = await startDevcloud({ dataDir: join(dir, "cloud") });
    src = await startSourceServer();
    status = await startStatusEndpoint();
    // 4 MiB of random data keep the zip big enough for a throttled download to last seconds.
    const disk = await buildTestDisk({
      path: join(dir, "disk.raw"),
      diskMiB: 64,
      extraFiles: { "/srv/data.bin": randomBytes(4 << 20) },
    });
    const zip = await makeBitnamiZip({ raw: disk.path, dir });
    zipName = zip.name;
    src.serve(`/${zip.name}.zip`, { path: zip.path });
    src.serve(`/slow/${zip.name}.zip`, { path: zip.path, bytesPerSecond: 1 << 20 });
    // As from the internet: the decode keeps up, so its blocks are sent while the download arrives.
    src.serve(`/paced/${zip.name}.zip`, { path: zip.path, bytesPerSecond: 4 << 20 });
    src.serve("/page.html", {
      path: await writeText(join(dir, "page.html"), "<!DOCTYPE html><html>hi</html>"),
    });
  });
  after(async () => {
    await status.close();
    await src.close();
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeText(path: string, text: string): Promise<string> {
    await writeFile(path, text);
    return path;
  }

  /** A VM directory as the service's personality leaves it, and the manifest it will fetch. */
  async function vm(image: Record<string, unknown>, extra: Record<string, Record<string, unknown>> = {}) {
    const build = nextBuild++;
    const root = join(dir, `vm-${build}`);
    await mkdir(join(root, dirname(MANIFEST_PATH)), { recursive: true });
    await writeFile(join(root, MARKER_PATH), "empty");
    await writeFile(join(root, MANIFEST_PATH), `[manifest]\nurl = ${status.manifestUrl(build)}\n\n`);
    status.setManifest(build, {
      progress: { heuristic: 6.75, interval: 0.2 },
      image: { name: "Foo", container: "images", object: `foo-${build}.raw`, ...image },
      service: {
        status: `${status.url}/icaas/builds/agent/${build}`,
        token: `agent-token-${build}`,
        insecure: "False",
      },
      synnefo: { url: cloud.authUrl, token: DEMO_TOKEN },
      log: { container: "icaas", object: `foo-${build}.log` },
      // The source server runs on loopback, which the default source policy refuses: allowed on purpose.
      source: { allow_private: "True", allow: LOOPBACK_NETWORKS.join(",") },
      ...extra,
    });
    status.reports.length = 0;
    status.tokens.length = 0;
    return { root, build, work: join(root, "var/tmp") };
  }

  const pithos = () =>
    new PithosClient({
      storageUrl: `${cloud.url}/object-store/v1`,
      account: DEMO_USER_UUID,
      token: DEMO_TOKEN,
    });

  async function readLog(object: string): Promise<string> {
    const res = await pithos().getObject("icaas", object);
    return res.body.text();
  }

  it("builds a Bitnami zip into a registered diskdump image and reports all along", async () => {
    const { root, build, work } = await vm({
      src: `${src.url}/paced/${zipName}.zip`,
      public: "True",
      description: "Foo app",
    });
    const echoed: string[] = [];
    const code = await runAgent({ root, echo: (l) => echoed.push(l), backoffMs: 10 });
    assert.equal(code, 0, echoed.join("\n"));
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "COMPLETED");
    assert.equal(last.details, "image creation finished");
    assert.equal(last.image_location, `pithos://${DEMO_USER_UUID}/images/foo-${build}.raw`);
    assert.ok(last.image_id);
    assert.ok(status.tokens.every((t) => t === `agent-token-${build}`));
    assert.deepEqual(
      last.steps!.map((s) => `${s.name}:${s.state}`),
      [
        "manifest:done",
        "download:done",
        "unpack:done",
        "inspect:done",
        "convert:done",
        "prepare:done",
        "shrink:done",
        "upload:done",
        "register:done",
        "log:done",
      ],
    );
    assert.equal(last["agent-progress"]!.current, last["agent-progress"]!.total);
    const creating = status.reports.filter((r) => r.status === "CREATING");
    assert.equal(creating[0]!.details, "Booted!");
    assert.ok(creating.some((r) => r.details === "Downloading image file..."));
    assert.ok(creating.some((r) => r.details === "Unpacking image archive..."));
    assert.ok(last.log_tail!.some((l) => / INFO image creation finished$/.test(l)));
    // The image: raw, registered as diskdump, public, with the description.
    const head = await pithos().headObject("images", `foo-${build}.raw`);
    assert.ok(head.bytes < 64 << 20, `shrunk to ${head.bytes} bytes`);
    const plankton = new PlanktonClient({ imageUrl: `${cloud.url}/image/v1.0`, token: DEMO_TOKEN });
    const image = await plankton.head(last.image_id!);
    assert.equal(image.diskFormat, "diskdump");
    assert.equal(image.containerFormat, "bare");
    assert.equal(image.isPublic, true);
    assert.equal(image.properties.description, "Foo app");
    assert.equal(image.properties.osfamily, "linux");
    assert.equal(image.properties.root_partition, "1");
    assert.ok(image.properties.users, "USERS is set");
    const meta = JSON.parse(await (await pithos().getObject("images", `foo-${build}.raw.meta`)).body.text());
    assert.equal(meta.id, last.image_id);
    // The log object names every step; no token in it.
    const log = await readLog(`foo-${build}.log`);
    for (const step of STEP_NAMES.filter((name) => name !== "manifest")) {
      assert.match(log, new RegExp(`step ${step}: started`));
    }
    assert.doesNotMatch(log, new RegExp(`${DEMO_TOKEN}|agent-token-${build}|nonce-${build}`));
    // The decoded disk's blocks went to Pithos during the download; the upload sent only the rest.
    const presend =
      /pre-sent (\d+) blocks \(\d+ bytes\) during the download, (\d+) skipped; the upload then sent (\d+) blocks/.exec(
        log,
      );
    assert.ok(presend, "the upload step says what was pre-sent");
    const [preSent, skipped, sentAfter] = presend.slice(1).map(Number) as [number, number, number];
    assert.ok(preSent >= 1, `pre-sent ${preSent} blocks`);
    // The devcloud's first image: without the pre-send the upload sends each distinct block once.
    const { hashes } = await pithos().getHashmap("images", `foo-${build}.raw`);
    const distinct = new Set(hashes).size;
    assert.ok(
      sentAfter < distinct,
      `the upload sent ${sentAfter} of ${distinct} distinct blocks (${preSent} pre-sent, ${skipped} skipped)`,
    );
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO /m);
    assert.deepEqual(await readdir(work), [], "the work directory is removed");
    assert.equal(existsSync(join(root, MARKER_PATH)), false, "the marker is removed");
    // Children inherit nothing secret: no token ever goes into the environment.
    assert.doesNotMatch(JSON.stringify(process.env), new RegExp(`${DEMO_TOKEN}|agent-token-${build}`));
  });

  it("ends ERROR download_not_found on a 404, with the log uploaded", async () => {
    const { root, build } = await vm({ src: `${src.url}/missing.zip` });
    const code = await runAgent({ root, echo: () => {}, backoffMs: 10 });
    assert.equal(code, 1);
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "ERROR");
    assert.equal(last.error?.code, "download_not_found");
    assert.equal(last.error?.step, "download");
    assert.equal(last.details, "The image URL was not found (HTTP 404)");
    assert.equal(last.steps!.find((s) => s.name === "download")!.state, "failed");
    assert.match(await readLog(`foo-${build}.log`), /ERROR step download: failed: download_not_found/);
  });

  it("ends ERROR source_refused, without a request to the source, when the policy refuses its address", async () => {
    const { root } = await vm({ src: `${src.url}/${zipName}.zip` }, { source: {} });
    const requests = src.requests.length;
    assert.equal(await runAgent({ root, echo: () => {}, backoffMs: 10 }), 1);
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "ERROR");
    assert.equal(last.error?.code, "source_refused");
    assert.equal(last.error?.step, "download");
    assert.match(last.details ?? "", /127\.0\.0\.1 is a loopback address/);
    assert.equal(src.requests.length, requests);
  });

  it("ends ERROR not_a_disk_image for a web page", async () => {
    const { root } = await vm({ src: `${src.url}/page.html` });
    assert.equal(await runAgent({ root, echo: () => {}, backoffMs: 10 }), 1);
    const last = status.reports.at(-1)!;
    assert.equal(last.error?.code, "not_a_disk_image");
    assert.match(last.error?.hint ?? "", /direct link/);
  });

  it("reports a missing manifest key as ERROR with the original's message and exits 3", async () => {
    const { root } = await vm({ src: `${src.url}/${zipName}.zip`, object: "" });
    assert.equal(await runAgent({ root, echo: () => {}, backoffMs: 10 }), 3);
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "ERROR");
    assert.equal(last.details, "`object' is missing from the `image' section of the manifest");
    assert.equal(last.error?.code, "manifest_invalid");
  });

  it("reports a refused token as auth_failed", async () => {
    const { root } = await vm(
      { src: `${src.url}/${zipName}.zip` },
      {
        synnefo: { url: cloud.authUrl, token: "not-a-valid-token-0000000000000000000" },
      },
    );
    assert.equal(await runAgent({ root, echo: () => {}, backoffMs: 10 }), 3);
    const last = status.reports.at(-1)!;
    assert.equal(last.error?.code, "auth_failed");
    assert.match(last.details ?? "", /^Astakos: /);
    assert.doesNotMatch(JSON.stringify(status.reports), /not-a-valid-token/);
  });

  it("stops within seconds when the service answers 403 (canceled), sends nothing more, cleans up", async () => {
    const { root, work } = await vm({ src: `${src.url}/slow/${zipName}.zip` });
    status.refuseFrom = 6;
    const started = Date.now();
    const code = await runAgent({ root, echo: () => {}, backoffMs: 10 });
    status.refuseFrom = Number.POSITIVE_INFINITY;
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 10_000, `stopped after ${Date.now() - started} ms`);
    assert.ok(status.reports.every((r) => r.status === "CREATING"));
    assert.equal(status.reports.at(-1)!.steps!.find((s) => s.name === "download")!.state, "running");
    assert.deepEqual(await readdir(work), []);
  });

  it("reports ERROR 'Stopped before completing' when stopped (SIGTERM)", async () => {
    const { root, build } = await vm({ src: `${src.url}/slow/${zipName}.zip` });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 800);
    const code = await runAgent({ root, echo: () => {}, backoffMs: 10, signal: controller.signal });
    assert.equal(code, 1);
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "ERROR");
    assert.equal(last.details, "Image creation failed. Stopped before completing");
    assert.equal(last.error?.code, "stopped");
    assert.match(await readLog(`foo-${build}.log`), /step download: failed: stopped/);
  });

  it("on SIGTERM reports first, even while Pithos hangs, and gives the log upload only a short grace", async () => {
    const { root } = await vm({ src: `${src.url}/slow/${zipName}.zip` });
    const controller = new AbortController();
    let stoppedAt = 0;
    const echo = (line: string) => {
      if (stoppedAt || !/step download: started/.test(line)) return;
      stoppedAt = Date.now();
      // Pithos stops answering (the log appends hang), then the VM is shut down.
      cloud.injection.set({ "object-store": { latencyMs: 120_000 } });
      setTimeout(() => controller.abort(), 300);
    };
    try {
      const running = runAgent({ root, echo, backoffMs: 10, signal: controller.signal });
      const reported = await Promise.race([
        running.then(() => "ended"),
        (async () => {
          while (status.reports.at(-1)?.status !== "ERROR") await sleep(20);
          return "reported";
        })(),
        sleep(6_000).then(() => "timeout"),
      ]);
      assert.equal(reported, "reported", "the final report came within 6 s of the stop");
      const last = status.reports.at(-1)!;
      assert.equal(last.error?.code, "stopped");
      assert.equal(last.details, "Image creation failed. Stopped before completing");
      const ended = await Promise.race([running, sleep(15_000).then(() => "still running")]);
      assert.equal(ended, 1, "the agent exits soon after the report, without waiting out Pithos");
    } finally {
      cloud.injection.set({});
    }
  });

  it("the CLI turns SIGTERM into the same report, and exits once it is sent", async () => {
    const { root, work } = await vm({ src: `${src.url}/slow/${zipName}.zip` });
    const [node, ...args] = agentCommand(root);
    const child = spawn(node!, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: process.env.PATH ?? "" },
    });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Wait until the download runs (the CLI's start-up alone can take seconds on a loaded machine),
    // then stop it as systemd or the devcloud would.
    let ended = false;
    void exited.then(() => {
      ended = true;
    });
    const deadline = Date.now() + 120_000;
    while (!/step download: started/.test(stderr) && !ended && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /step download: started/, "the download was running when SIGTERM came");
    child.kill("SIGTERM");
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /SIGTERM received; stopping the build/);
    const last = status.reports.at(-1)!;
    assert.equal(last.status, "ERROR");
    assert.equal(last.error?.code, "stopped");
    assert.equal(last.details, "Image creation failed. Stopped before completing");
    assert.deepEqual(await readdir(work), []);
  });

  it("completes when Pithos refuses the blocks sent during the download: the upload sends them", async () => {
    const { root, build } = await vm({
      src: `${src.url}/${zipName}.zip`,
      object: `refused-${nextBuild}.raw`,
    });
    const injected = cloud.counters.get("injected.object-store");
    cloud.injection.set({ "object-store": { failBlockPosts: true } });
    const echo = () => {
      // Once a block POST was refused, the upload step's must work again.
      if (cloud.counters.get("injected.object-store") > injected) cloud.injection.set({});
    };
    try {
      assert.equal(await runAgent({ root, echo, backoffMs: 10 }), 0);
    } finally {
      cloud.injection.set({});
    }
    assert.equal(status.reports.at(-1)!.status, "COMPLETED");
    const log = await readLog(`foo-${build}.log`);
    assert.match(log, / WARNING sending blocks during the download stopped: .*Service Unavailable/);
    assert.match(log, /pre-sent 0 blocks/);
    const head = await pithos().headObject("images", `refused-${build}.raw`);
    assert.ok(head.bytes > 0);
  });

  it("ends ERROR quota_exceeded when Pithos refuses the upload, leaving no object", async () => {
    // Only the image container is over its quota; the log still goes through.
    await pithos().createContainer("images-small", { quota: 1024 });
    const { root: root2, build: build2 } = await vm({
      src: `${src.url}/${zipName}.zip`,
      container: "images-small",
    });
    assert.equal(await runAgent({ root: root2, echo: () => {}, backoffMs: 10 }), 1);
    const last = status.reports.at(-1)!;
    assert.equal(last.error?.code, "quota_exceeded", JSON.stringify(last.error));
    assert.equal(last.error?.step, "upload");
    assert.match(last.error?.hint ?? "", /quota/);
    await assert.rejects(pithos().headObject("images-small", `foo-${build2}.raw`));
  });
});
