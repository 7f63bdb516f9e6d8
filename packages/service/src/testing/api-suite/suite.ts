/** @module testing/api-suite/suite — what every area of the API suite shares: the harness and request helpers. */
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
  vmDeleted,
} from "../index.ts";

/** The source every build of the suite names (no agent runs: nothing downloads it). */
export const SRC = "http://example.org/bitnami-wordpress.zip";

export interface ApiSuite {
  /** The database the suite runs on (`SQLite`, `PostgreSQL`). */
  dialect: string;
  /** The running harness and its API URL; valid from the suite's `before` on. */
  current(): { h: Harness; api: string };
  create(
    build: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer>;
  get(id: number, token?: string): Promise<HttpAnswer>;
  cancel(id: number, token?: string, body?: unknown): Promise<HttpAnswer>;
  /** Waits for the build's VM to exist and then to be deleted (`endpoint`: another instance's API). */
  vmDeleted(id: number, endpoint?: string): Promise<DevcloudServer>;
  vmOf(id: number, endpoint?: string): Promise<DevcloudServer>;
  agentOf(id: number, endpoint?: string): ReturnType<typeof actAsAgent>;
  /** Another service instance on the same devcloud with a database of its own. */
  isolated(overrides: Record<string, unknown>): Promise<RunningService>;
}

/** The suite's helpers over `current()`, which the suite's `before` makes valid. */
export function apiSuite(
  dialect: string,
  current: ApiSuite["current"],
  newDatabase: () => Promise<string | undefined>,
): ApiSuite {
  const api = () => current().api;
  const cloud = () => current().h.cloud;
  return {
    dialect,
    current,
    create: (build, token = USER_A.token, headers) =>
      call(`${api()}/builds`, { method: "POST", token, body: { build }, headers }),
    get: (id, token = USER_A.token) => call(`${api()}/builds/${id}`, { token }),
    cancel: (id, token = USER_A.token, body = { action: "cancel" }) =>
      call(`${api()}/builds/${id}`, { method: "PUT", token, body }),
    vmDeleted: (id, endpoint = api()) => vmDeleted(cloud(), id, endpoint),
    vmOf: (id, endpoint = api()) => serverOfBuild(cloud(), id, endpoint),
    agentOf: (id, endpoint = api()) => actAsAgent(cloud(), id, endpoint),
    isolated: async (overrides) => {
      const { h } = current();
      return h.startService({
        databaseUrl: await newDatabase(),
        dataDir: mkdtempSync(join(h.dataDir, "extra-")),
        ...overrides,
      });
    },
  };
}
