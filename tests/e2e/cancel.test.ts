/**
 * Stopping a build while the agent downloads: a cancel (CANCELED, the agent gone within seconds, the VM
 * deleted) and a VM shutdown while Pithos hangs (the agent reports first, so the build ends at once).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { it } from "node:test";
import { makeBitnamiZip } from "@icaas/agent/testing";
import { DEMO_TOKEN } from "@icaas/devcloud";
import { buildTestDisk } from "@icaas/imageprep/testing";
import {
  alive,
  api,
  createBuild,
  describeEachRelease,
  type Pipeline,
  serverOf,
  suitePipeline,
  waitBuild,
  waitVmGone,
} from "./pipeline-harness.ts";

describeEachRelease("e2e: cancel or shutdown during download", (synnefo) => {
  let p: Pipeline;
  let url: string;

  suitePipeline(synnefo, async (started) => {
    p = started;
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

  /** A build from the slow source, once its download has received bytes, and its VM. */
  async function downloadingBuild(name: string) {
    const id = await createBuild(p, { name, src: url });
    await waitBuild(p, id, {
      until: (b) =>
        b.steps.some((s) => s.name === "download" && s.state === "running" && (s.bytes_done ?? 0) > 0),
      timeoutMs: 30_000,
    });
    const server = await serverOf(p, id);
    return { id, server };
  }

  it("ends CANCELED and the agent stops within seconds", async () => {
    const { id, server } = await downloadingBuild("to cancel");
    assert.ok(server?.pid && alive(server.pid), "the agent runs");
    const canceledAt = Date.now();
    const answer = await api(p, `/builds/${id}`, { method: "PUT", body: { action: "cancel" } });
    assert.equal(answer.status, 204);
    const build = await waitBuild(p, id);
    assert.equal(build.status, "CANCELED");
    const vm = await waitVmGone(p, id, 15_000);
    const took = Date.now() - canceledAt;
    assert.ok(took < 10_000, `the agent stopped ${took} ms after the cancel`);
    assert.equal(vm.status, "DELETED");
    assert.ok(!alive(server!.pid!), "the agent process is gone");
    // It never reported anything after the cancel: the build keeps the cancel's state.
    const later = (await api(p, `/builds/${id}`)).body?.build;
    assert.equal(later?.status, "CANCELED");
    assert.equal(later?.image_id, null);
    const downloaded = p.src.bytesSent();
    assert.ok(downloaded < 12 << 20, `the download stopped (${downloaded} bytes sent)`);
  });

  it("ends ERROR 'stopped' within seconds although the log cannot be uploaded", async () => {
    const { id, server } = await downloadingBuild("shut down");
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
