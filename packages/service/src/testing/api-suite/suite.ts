/**
 * @module testing/api-suite/suite — what every area of the API suite shares: the running harness
 * and the request helpers. The suite's `before` sets the harness (`runSuiteOn`); the areas import
 * `h` and `api` as live bindings. One suite runs at a time in a test process (one per test file).
 */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { RunningService } from "../../service.ts";
import {
  actAsAgent,
  call,
  type DevcloudServer,
  type Harness,
  type HttpAnswer,
  serverOfBuild,
  USER_A,
  vmDeleted as waitVmDeleted,
} from "../index.ts";

/** The source every build of the suite names (no agent runs: nothing downloads it). */
export const SRC = "http://example.org/bitnami-wordpress.zip";

/** The running harness (valid in the suite's tests). */
export let h: Harness;
/** Its API URL, `<service>/icaas`. */
export let api: string;
let newDatabase: () => Promise<string | undefined> = async () => undefined;

/** Called by the suite's `before`: the harness its tests run against, and how to get a fresh database. */
export function runSuiteOn(harness: Harness, fresh: () => Promise<string | undefined>): void {
  h = harness;
  api = harness.api;
  newDatabase = fresh;
}

/** Creates a build on the service at `endpoint` (an API URL: another instance's too). */
export const createOn = (
  endpoint: string,
  build: Record<string, unknown>,
  token = USER_A.token,
  headers?: Record<string, string>,
): Promise<HttpAnswer> => call(`${endpoint}/builds`, { method: "POST", token, body: { build }, headers });

export const create = (
  build: Record<string, unknown>,
  token = USER_A.token,
  headers?: Record<string, string>,
) => createOn(api, build, token, headers);

export const get = (id: number, token = USER_A.token): Promise<HttpAnswer> =>
  call(`${api}/builds/${id}`, { token });

export const cancel = (id: number, token = USER_A.token, body: unknown = { action: "cancel" }) =>
  call(`${api}/builds/${id}`, { method: "PUT", token, body });

/** Waits for the build's VM to exist and then to be deleted (`endpoint`: another instance's API). */
export const vmDeleted = (id: number, endpoint = api): Promise<DevcloudServer> =>
  waitVmDeleted(h.cloud, id, endpoint);

export const vmOf = (id: number, endpoint = api): Promise<DevcloudServer> =>
  serverOfBuild(h.cloud, id, endpoint);

export const agentOf = (id: number, endpoint = api) => actAsAgent(h.cloud, id, endpoint);

/** Another service instance on the same devcloud with a database of its own. */
export async function isolated(overrides: Record<string, unknown>): Promise<RunningService> {
  return h.startService({
    databaseUrl: await newDatabase(),
    dataDir: mkdtempSync(join(h.dataDir, "extra-")),
    ...overrides,
  });
}
