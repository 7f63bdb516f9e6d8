/** A VM shut down (SIGTERM) while Pithos hangs: the agent reports first, so the build ends at once. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeBitnamiZip } from "@icaas/agent/testing";
import { DEMO_TOKEN } from "@icaas/devcloud";
import { buildTestDisk } from "@icaas/imageprep/testing";
import {
  createBuild,
  type Pipeline,
  serverOf,
  startPipeline,
  waitBuild,
  waitVmGone,
} from "./pipeline-harness.ts";

describe("e2e: shutdown during download", () => {
  let p: Pipeline;
  let url: string;

  before(async () => {
    p = await startPipeline();
    // 8 MiB of random data and a 1 MiB/s source: the download lasts about 8 seconds.
    const disk = await buildTestDisk({
      path: join(p.dir, "source.raw"),
      diskMiB: 64,
      swap: false,
      extraFiles: { "/srv/blob.bin": randomBytes(8 << 20) },
    });
    const zip = await makeBitnamiZip({ raw: disk.path, dir: p.dir });
    p.src.serve(`/slow/${zip.name}.zip`, { path: zip.path, bytesPerSecond: 1 << 20 });
    url = `${p.src.url}/slow/${zip.name}.zip`;
  });
  after(async () => {
    p?.cloud.injection.set({});
    await p?.close();
  });

  it("ends ERROR 'stopped' within seconds although the log cannot be uploaded", async () => {
    const id = await createBuild(p, { name: "shut down", src: url });
    await waitBuild(p, id, {
      until: (b) =>
        b.steps.some((s) => s.name === "download" && s.state === "running" && (s.bytes_done ?? 0) > 0),
      timeoutMs: 30_000,
    });
    const server = await serverOf(p, id);
    assert.ok(server, "the build has a VM");
    // Pithos stops answering, then the VM is shut down: the agent gets SIGTERM and, 3 s later, SIGKILL.
    p.cloud.injection.set({ "object-store": { latencyMs: 120_000 } });
    const stoppedAt = Date.now();
    const res = await fetch(`${p.cloud.url}/compute/v2.0/servers/${server.id}/action`, {
      method: "POST",
      headers: { "x-auth-token": DEMO_TOKEN, "content-type": "application/json" },
      body: JSON.stringify({ shutdown: {} }),
    });
    assert.equal(res.status, 202);
    const build = await waitBuild(p, id, { timeoutMs: 10_000 });
    const took = Date.now() - stoppedAt;
    assert.equal(build.status, "ERROR");
    assert.equal(build.error?.code, "stopped");
    assert.ok(took < 10_000, `the build ended ${took} ms after the shutdown`);
    p.cloud.injection.set({});
    assert.equal((await waitVmGone(p, id, 30_000)).status, "DELETED");
  });
});
