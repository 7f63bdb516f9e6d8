/**
 * @module testing/harness — the service tests' stack: the demo user A and a user B, no agent (tests
 * act as it), short timeouts; and the helpers they act with, as user or agent.
 */
import { DEMO_TOKEN, DEMO_USER_UUID, type DevcloudConfig, defaultConfig } from "@icaas/devcloud";
import type { Logger } from "pino";
import { type Stack, startStack, TEST_SERVICE_SETTINGS } from "./stack.ts";

export const USER_A = { uuid: DEMO_USER_UUID, token: DEMO_TOKEN };
export const USER_B = {
  uuid: "7a1c0e52-3b9d-4f6e-8c21-5d4e3f2a1b0c",
  token: "user-b-token-abcdefghijklmnopqrstuvwxyz0123",
};

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

/** Short timeouts, so lifecycle tests take seconds. */
const TEST_TIMINGS = {
  logLevel: "silent",
  manifestTimeoutSeconds: 60,
  jobPollMs: 50,
  jobBackoffMs: 50,
  jobMaxBackoffMs: 500,
  jobLeaseMs: 5000,
  sweeperIntervalMs: 100,
  authCacheSeconds: 30,
};

/** The service tests' stack; `close()` fails if a test leaked a VM. */
export type Harness = Stack;

/**
 * Starts a devcloud and a service. `databaseUrl` undefined → SQLite in a temp dir.
 *
 * @example
 * const h = await startHarness({});
 * await call(`${h.api}/builds`, { token: USER_A.token });
 * await h.close();
 */
export function startHarness(options: {
  databaseUrl?: string;
  service?: Record<string, unknown>;
  cloud?: Partial<DevcloudConfig>;
  logger?: Logger;
}): Promise<Harness> {
  return startStack({
    tempPrefix: "icaas-service-test-",
    cloud: testCloudConfig(options.cloud),
    service: {
      ...TEST_SERVICE_SETTINGS,
      ...TEST_TIMINGS,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      ...options.service,
    },
    logger: options.logger,
    checkLeaks: true,
  });
}
