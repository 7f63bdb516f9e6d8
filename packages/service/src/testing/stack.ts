/**
 * @module testing/stack — the one way to run a devcloud and the ICaaS service together on loopback:
 * the service's tests, the CLI's, the e2e and browser suites, the benchmarks and the demo all start
 * theirs here, each with its own settings on top.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AGENT_IMAGE_ID,
  type Devcloud,
  type DevcloudConfig,
  type DevUser,
  defaultConfig,
  startDevcloud,
} from "@icaas/devcloud";
import { LOOPBACK_NETWORKS } from "@icaas/source-policy";
import type { Logger } from "pino";
import { resolveConfig, type ServiceConfig } from "../config.ts";
import { type RunningService, startService } from "../service.ts";
import { type DevcloudServer, liveServers } from "./devcloud-admin.ts";
import { waitFor } from "./http.ts";

/** Service settings by config key (`jobPollMs`, …), checked when resolved. */
export type ServiceSettings = Record<string, unknown>;

/**
 * What tests and benchmarks share: no per-user limits (they create many builds at once), and image
 * sources on loopback allowed, which the default source policy refuses: their source servers run there.
 */
export const TEST_SERVICE_SETTINGS: ServiceSettings = {
  rateLimitPerMinute: 0,
  createRateLimitPerMinute: 0,
  maxActiveBuildsPerUser: 0,
  sourceAllowList: [...LOOPBACK_NETWORKS],
};

export interface StackOptions {
  /** Holds `devcloud/` and `service/`, and is kept; default a new temporary directory that close() removes. */
  dataDir?: string;
  /** The temporary directory's name prefix (it tells whose files a leftover holds). */
  tempPrefix?: string;
  /** Merged over the devcloud's `defaultConfig()`, whose one user is the demo user. */
  cloud?: Partial<DevcloudConfig>;
  /** Users besides the devcloud config's. */
  users?: DevUser[];
  /** The command each agent-image VM runs (`agentCommand()` of `@icaas/agent/testing`); none: VMs run nothing. */
  agent?: string[];
  /** The devcloud's port; default a free one. */
  cloudPort?: number;
  /**
   * The service's settings over the stack's wiring (loopback, a free port, this devcloud, the agent
   * image); a function gets the running devcloud.
   */
  service?: ServiceSettings | ((cloud: Devcloud) => ServiceSettings);
  /** Turns settings into the service's config; default `resolveConfig` (the demo reads the environment too). */
  configure?: (settings: ServiceSettings) => ServiceConfig;
  /** The services' logger; default one at the config's `logLevel`. */
  logger?: Logger;
  /** close() fails when a VM is still alive after a short grace period (a test leaked it). */
  checkLeaks?: boolean;
}

/** A devcloud and the means to run service instances on it. */
export interface CloudStack {
  cloud: Devcloud;
  dataDir: string;
  /** The config a service of this stack runs with, `overrides` on top of the stack's settings. */
  serviceConfig(overrides?: ServiceSettings): ServiceConfig;
  /** Starts a service instance on this devcloud (for PostgreSQL, on the same database unless told otherwise). */
  startService(overrides?: ServiceSettings, logger?: Logger): Promise<RunningService>;
  /** Stops every service started here, then the devcloud; removes a temporary data directory. */
  close(): Promise<void>;
}

/** A devcloud and one service on it. */
export interface Stack extends CloudStack {
  service: RunningService;
  /** The service's base URL (the UI), e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** `<url>/icaas` */
  api: string;
}

/** Starts the devcloud only; services start with `startService`. */
export async function startCloudStack(options: StackOptions = {}): Promise<CloudStack> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), options.tempPrefix ?? "icaas-stack-")));
  const base = { ...defaultConfig(), ...options.cloud };
  const config: DevcloudConfig = {
    ...base,
    users: [...base.users, ...(options.users ?? [])],
    ...(options.agent ? { agent: { ...base.agent, command: options.agent } } : {}),
  };
  let cloud: Devcloud;
  try {
    cloud = await startDevcloud({ dataDir: join(dataDir, "devcloud"), config, port: options.cloudPort });
  } catch (error) {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const settings = typeof options.service === "function" ? options.service(cloud) : options.service;
  const configure = options.configure ?? ((s: ServiceSettings) => resolveConfig(s));
  const serviceConfig = (overrides: ServiceSettings = {}) =>
    configure({
      host: "127.0.0.1",
      port: 0,
      authUrl: cloud.authUrl,
      dataDir: join(dataDir, "service"),
      agentImageId: AGENT_IMAGE_ID,
      agentFlavorId: "1",
      ...settings,
      ...overrides,
    });
  const services: RunningService[] = [];
  return {
    cloud,
    dataDir,
    serviceConfig,
    async startService(overrides, logger = options.logger) {
      const service = await startService(serviceConfig(overrides), { logger });
      services.push(service);
      return service;
    },
    async close() {
      let leaked: DevcloudServer[] = [];
      try {
        if (options.checkLeaks) leaked = await leftoverVms(cloud);
      } finally {
        for (const service of services) await service.close();
        await cloud.close();
        if (temporary) await rm(dataDir, { recursive: true, force: true });
      }
      if (leaked.length > 0)
        throw new Error(`leaked VMs: ${leaked.map((s) => `${s.id} ${s.name}`).join(", ")}`);
    },
  };
}

/**
 * Starts a devcloud and a service on it; if the service cannot start, the devcloud is stopped again.
 *
 * @example
 * const stack = await startStack({ agent: agentCommand(), service: TEST_SERVICE_SETTINGS });
 * await fetch(`${stack.api}/builds`, { headers: { "x-auth-token": DEMO_TOKEN } });
 * await stack.close();
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startCloudStack(options);
  let service: RunningService;
  try {
    service = await stack.startService();
  } catch (error) {
    await stack.close();
    throw error;
  }
  return { ...stack, service, url: service.url, api: `${service.url}/icaas` };
}

/** The VMs still alive after a short grace period (ended builds' VMs are destroyed by a job). */
async function leftoverVms(cloud: Devcloud): Promise<DevcloudServer[]> {
  return waitFor(
    "no live VM",
    async () => {
      const live = await liveServers(cloud);
      return live.length === 0 ? [] : undefined;
    },
    10_000,
  ).catch(async () => liveServers(cloud));
}
