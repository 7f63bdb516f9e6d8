/** @module testing/harness — a devcloud plus a service on loopback, and helpers that act as user or agent. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AGENT_IMAGE_ID,
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type Devcloud,
  type DevcloudConfig,
  defaultConfig,
  startDevcloud,
} from "@icaas/devcloud";
import { LOOPBACK_NETWORKS } from "@icaas/source-policy";
import type { Logger } from "pino";
import { resolveConfig, type ServiceConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { type RunningService, startService } from "../service.ts";

export const USER_A = { uuid: DEMO_USER_UUID, token: DEMO_TOKEN };
export const USER_B = {
  uuid: "7a1c0e52-3b9d-4f6e-8c21-5d4e3f2a1b0c",
  token: "user-b-token-abcdefghijklmnopqrstuvwxyz0123",
};

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON, or undefined for an empty body. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field.
  body: any;
}

/** Calls the service (or anything) over real HTTP. */
export async function call(
  url: string,
  options: {
    method?: string;
    token?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers["x-auth-token"] = options.token;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, { method: options.method ?? "GET", headers, body });
  const text = await res.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(intervalMs);
  }
}

export interface DevcloudServer {
  id: number;
  name: string;
  userId: string;
  status: string;
  deleted: boolean;
  rootDir: string;
}

/** Every server the devcloud ever made (admin view, deleted ones included). */
export async function devcloudServers(cloud: Devcloud): Promise<DevcloudServer[]> {
  const answer = await call(`${cloud.url}/_devcloud/compute/servers`);
  return answer.body.servers as DevcloudServer[];
}

export async function liveServers(cloud: Devcloud): Promise<DevcloudServer[]> {
  return (await devcloudServers(cloud)).filter((s) => !s.deleted);
}

/** The devcloud a test uses: the demo user A, a user B, a generous VM quota, no agent process. */
export function testCloudConfig(overrides: Partial<DevcloudConfig> = {}, vms = 500): DevcloudConfig {
  const base = defaultConfig();
  const [demo] = base.users;
  return {
    ...base,
    users: [
      { ...demo!, quotas: { ...demo!.quotas, vms, cpu: vms * 2, ramMiB: vms * 4096, diskGiB: vms * 50 } },
      {
        uuid: USER_B.uuid,
        name: "b@example.org",
        token: USER_B.token,
        quotas: { vms: 1, cpu: 8, ramMiB: 8192, diskGiB: 100 },
      },
    ],
    agent: undefined,
    bootSeconds: 0.05,
    ...overrides,
  };
}

/** Short timeouts so lifecycle tests take seconds; image sources on loopback allowed (see below). */
export function testServiceConfig(
  cloud: Devcloud,
  dataDir: string,
  overrides: Record<string, unknown> = {},
): ServiceConfig {
  return resolveConfig({
    host: "127.0.0.1",
    port: 0,
    authUrl: cloud.authUrl,
    dataDir,
    agentImageId: AGENT_IMAGE_ID,
    agentFlavorId: "1",
    logLevel: "silent",
    manifestTimeoutSeconds: 60,
    jobPollMs: 50,
    jobBackoffMs: 50,
    jobMaxBackoffMs: 500,
    jobLeaseMs: 5000,
    sweeperIntervalMs: 100,
    authCacheSeconds: 30,
    maxActiveBuildsPerUser: 0,
    rateLimitPerMinute: 0,
    createRateLimitPerMinute: 0,
    // Test sources run on loopback, which the default source policy refuses: allowed here, on purpose.
    sourceAllowList: [...LOOPBACK_NETWORKS],
    ...overrides,
  });
}

export interface Harness {
  cloud: Devcloud;
  service: RunningService;
  dataDir: string;
  /** `http://127.0.0.1:<port>/icaas` */
  api: string;
  /** Starts another service instance on the same devcloud (and, for PostgreSQL, the same database). */
  startService(overrides?: Record<string, unknown>, logger?: Logger): Promise<RunningService>;
  close(): Promise<void>;
}

/**
 * Starts a devcloud and a service. `databaseUrl` undefined → SQLite in a temp dir.
 *
 * @example
 * const h = await startHarness({});
 * await call(`${h.api}/builds`, { token: USER_A.token });
 * await h.close();
 */
export async function startHarness(options: {
  databaseUrl?: string;
  service?: Record<string, unknown>;
  cloud?: Partial<DevcloudConfig>;
  logger?: Logger;
}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "icaas-service-test-"));
  const cloud = await startDevcloud({
    dataDir: join(dataDir, "devcloud"),
    config: testCloudConfig(options.cloud),
  });
  const extra: RunningService[] = [];
  const start = (overrides: Record<string, unknown> = {}, logger?: Logger) =>
    startService(
      testServiceConfig(cloud, join(dataDir, "service"), {
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
        ...options.service,
        ...overrides,
      }),
      { logger: logger ?? options.logger ?? createLogger("silent") },
    );
  const service = await start();
  return {
    cloud,
    service,
    dataDir,
    api: `${service.url}/icaas`,
    async startService(overrides, logger) {
      const s = await start(overrides, logger);
      extra.push(s);
      return s;
    },
    /** Stops everything; fails if a VM is still alive (a test leaked it) after a short grace period. */
    async close() {
      let leaked: DevcloudServer[] = [];
      try {
        leaked = await waitFor(
          "no live VM",
          async () => {
            const live = await liveServers(cloud);
            return live.length === 0 ? [] : undefined;
          },
          10_000,
        ).catch(async () => liveServers(cloud));
      } finally {
        for (const s of [service, ...extra]) await s.close();
        await cloud.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
      if (leaked.length > 0)
        throw new Error(`leaked VMs: ${leaked.map((s) => `${s.id} ${s.name}`).join(", ")}`);
    },
  };
}

/** The manifest URL the service wrote into a VM (`<root>/etc/icaas/manifest.cfg`). */
export function manifestUrlOf(server: DevcloudServer): string {
  const ini = readFileSync(join(server.rootDir, "etc", "icaas", "manifest.cfg"), "utf8");
  const match = ini.match(/^url = (.+)$/m);
  if (!match?.[1]) throw new Error(`no manifest url in ${ini}`);
  return match[1];
}

/**
 * The devcloud server of a build of the service at `endpoint` (several services with their own
 * databases share one devcloud in tests, so ids repeat: the manifest URL tells them apart).
 */
export async function findServer(
  cloud: Devcloud,
  buildId: number,
  endpoint: string,
): Promise<DevcloudServer | undefined> {
  const prefix = `${endpoint}/builds/agent/${buildId}/`;
  return (await devcloudServers(cloud)).find((s) => {
    if (!s.name.startsWith(`icaas-agent-${buildId}-`)) return false;
    try {
      return manifestUrlOf(s).startsWith(prefix);
    } catch {
      return false;
    }
  });
}

/** Waits for the build's VM to exist. */
export async function serverOfBuild(
  cloud: Devcloud,
  buildId: number,
  endpoint: string,
): Promise<DevcloudServer> {
  return waitFor(`the VM of build ${buildId}`, () => findServer(cloud, buildId, endpoint));
}

/** Waits for the build's VM to exist and then to be deleted. */
export async function vmDeleted(cloud: Devcloud, buildId: number, endpoint: string): Promise<DevcloudServer> {
  const server = await serverOfBuild(cloud, buildId, endpoint);
  return waitFor(`VM ${server.id} of build ${buildId} to be deleted`, async () => {
    const now = (await devcloudServers(cloud)).find((s) => s.id === server.id);
    return now?.deleted ? now : undefined;
  });
}

/** Acts as the agent of a build: reads manifest.cfg in the VM, fetches the manifest, reports. */
export async function actAsAgent(cloud: Devcloud, buildId: number, endpoint: string) {
  const server = await serverOfBuild(cloud, buildId, endpoint);
  const manifestUrl = manifestUrlOf(server);
  const answer = await call(manifestUrl);
  if (answer.status !== 200)
    throw new Error(`manifest fetch: ${answer.status} ${JSON.stringify(answer.body)}`);
  const manifest = answer.body.manifest;
  return {
    server,
    manifestUrl,
    manifest,
    report: (body: unknown, token: string = manifest.service.token) =>
      call(manifest.service.status, { method: "PUT", body, headers: { "x-icaas-token": token } }),
  };
}
