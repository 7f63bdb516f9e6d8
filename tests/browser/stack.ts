/** @module stack — the real system on loopback: a devcloud whose VMs run the real agent, and the service serving the UI. */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_IMAGE_ID, DEMO_TOKEN, type Devcloud, defaultConfig, startDevcloud } from "@icaas/devcloud";
import { type RunningService, resolveConfig, startService } from "@icaas/service";
import { LOOPBACK_NETWORKS } from "@icaas/source-policy";

export { DEMO_TOKEN };

/** A second user whose VM quota is 0: each of their builds fails at once, with Cyclades' 413. */
export const NO_VM_USER = {
  uuid: "3f6b8a2e-0c1d-4e5f-9a7b-1c2d3e4f5a6b",
  name: "no-vms@example.org",
  token: "no-vm-token-0123456789abcdefghijklmnopqrs",
  quotas: { vms: 0 },
};

export interface Stack {
  cloud: Devcloud;
  service: RunningService;
  /** The UI's address, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `<url>/icaas` */
  api: string;
  dir: string;
  close(): Promise<void>;
}

export interface DevcloudServer {
  id: number;
  name: string;
  status: string;
  deleted: boolean;
  pid: number | null;
  /** The agent process; `state` is `running` until it ends (`exited`, `stopped`, `killed`, …). */
  process: { pid: number; state: string } | null;
}

/** `icaas-agent` as a command line: the agent package's bin (TypeScript) run through tsx. */
function agentCommand(): string[] {
  // The package exports only its modules; its package.json is found beside the entry point.
  let dir = dirname(fileURLToPath(import.meta.resolve("@icaas/agent")));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = pkg.bin["icaas-agent"];
  if (!bin) throw new Error("@icaas/agent has no icaas-agent bin");
  // An absolute loader URL: the VM process runs in its own directory, outside the repository.
  return [process.execPath, "--import", import.meta.resolve("tsx"), join(dir, bin), "--root", "{root}"];
}

/**
 * Starts a devcloud (demo user, the real agent in each VM) and the service on SQLite with the built
 * UI, as the demo does; `close()` stops both and removes their data.
 */
export async function startStack(webDir: string): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "icaas-browser-"));
  const cloudConfig = defaultConfig();
  cloudConfig.agent = { command: agentCommand() };
  cloudConfig.users.push(NO_VM_USER);
  const cloud = await startDevcloud({ dataDir: join(dir, "devcloud"), config: cloudConfig });
  let service: RunningService;
  try {
    const config = resolveConfig({
      host: "127.0.0.1",
      port: 0,
      authUrl: cloud.authUrl,
      agentImageId: AGENT_IMAGE_ID,
      agentFlavorId: "1",
      dataDir: join(dir, "service"),
      webDir,
      demo: true,
      demoTokenHint: "The demo token is printed in the terminal running the demo (npm run demo).",
      // Every request asks Astakos, so an Astakos outage shows at once (the server-error test).
      authCacheSeconds: 0,
      progressIntervalSeconds: 1,
      jobPollMs: 100,
      sweeperIntervalMs: 2000,
      rateLimitPerMinute: 0,
      createRateLimitPerMinute: 0,
      maxActiveBuildsPerUser: 0,
      // The tests' image sources run on loopback, which the default source policy refuses.
      sourceAllowList: [...LOOPBACK_NETWORKS],
      logLevel: "warn",
    });
    service = await startService(config);
  } catch (error) {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    cloud,
    service,
    url: service.url,
    api: service.endpoint,
    dir,
    async close() {
      await service.close();
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The devcloud's own view of its servers (admin endpoint). */
export async function devcloudServers(cloud: Devcloud): Promise<DevcloudServer[]> {
  const res = await fetch(`${cloud.url}/_devcloud/compute/servers`);
  const body = (await res.json()) as { servers: DevcloudServer[] };
  return body.servers;
}

/** The agent VM of a build: the devcloud names it `icaas-agent-<id>-<time>`. */
export async function agentServer(
  cloud: Devcloud,
  buildId: string | number,
): Promise<DevcloudServer | undefined> {
  return (await devcloudServers(cloud)).find((s) => s.name.startsWith(`icaas-agent-${buildId}-`));
}

/** Switches devcloud fault injection (`{}` clears it). */
export async function setFaults(cloud: Devcloud, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${cloud.url}/_devcloud/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  if (res.status !== 204) throw new Error(`PUT /_devcloud/faults: ${res.status}`);
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}
