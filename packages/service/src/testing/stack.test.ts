/** @module testing/stack.test — the one stack cleans up after itself and tells a leaked VM. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AGENT_IMAGE_ID, DEMO_TOKEN } from "@icaas/devcloud";
import { CycladesClient } from "@icaas/synnefo";
import { startStack } from "./stack.ts";

/** A port free on loopback just now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

/** True when nothing answers at `url` any more. */
async function refused(url: string): Promise<boolean> {
  return fetch(url).then(
    () => false,
    () => true,
  );
}

describe("startStack", () => {
  it("removes its temporary data directory on close, and keeps one it was given", async () => {
    const temporary = await startStack({ service: { logLevel: "silent" } });
    assert.ok(existsSync(join(temporary.dataDir, "service")));
    await temporary.close();
    assert.equal(existsSync(temporary.dataDir), false);
    assert.ok(await refused(`${temporary.api}/health`), "the service is stopped");
    assert.ok(await refused(temporary.cloud.url), "the devcloud is stopped");

    const given = mkdtempSync(join(tmpdir(), "icaas-stack-test-"));
    try {
      const kept = await startStack({ dataDir: given, service: { logLevel: "silent" } });
      await kept.close();
      assert.ok(existsSync(join(given, "service")), "a given data directory is kept");
    } finally {
      rmSync(given, { recursive: true, force: true });
    }
  });

  it("with checkLeaks, close() names a VM left alive, and still stops everything", async () => {
    const stack = await startStack({ service: { logLevel: "silent" }, checkLeaks: true });
    const cyclades = new CycladesClient({ computeUrl: `${stack.cloud.url}/compute/v2.0`, token: DEMO_TOKEN });
    const vm = await cyclades.createServer({ name: "left-behind", imageRef: AGENT_IMAGE_ID, flavorRef: 1 });
    await assert.rejects(stack.close(), new RegExp(`^Error: leaked VMs: ${vm.id} left-behind$`));
    assert.ok(await refused(stack.cloud.url), "the devcloud is stopped");
    assert.equal(existsSync(stack.dataDir), false);
  });

  it("stops the devcloud again when the service cannot start", async () => {
    const cloudPort = await freePort();
    await assert.rejects(
      startStack({ cloudPort, service: { logLevel: "silent", notASetting: 1 } }),
      /unknown key 'notASetting'/,
    );
    assert.ok(await refused(`http://127.0.0.1:${cloudPort}/`), "the devcloud is stopped");
  });
});
