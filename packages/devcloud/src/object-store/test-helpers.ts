/** @module object-store/test-helpers — a devcloud with Pithos on a random port, and raw HTTP calls to it. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_TOKEN, DEMO_USER_UUID, type DevcloudConfig, defaultConfig } from "../config.ts";
import { type Devcloud, startDevcloud } from "../server.ts";
import { objectStoreFactory } from "./index.ts";

export const OTHER_TOKEN = "other-token-0123456789abcdefghijklmnopqrstu";
export const OTHER_UUID = "7f1e9c2a-0d4b-4e5f-8a6b-9c0d1e2f3a4b";
export const SMALL_TOKEN = "small-token-0123456789abcdefghijklmnopqrstu";
export const SMALL_UUID = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
/** The storage quota of the "small" user. */
export const SMALL_QUOTA = 10 * 1024 * 1024;

/** Demo user, a second user, and a user with a 10 MiB storage quota. */
export function testConfig(): DevcloudConfig {
  const config = defaultConfig();
  config.users.push(
    { uuid: OTHER_UUID, name: "other@example.org", token: OTHER_TOKEN },
    {
      uuid: SMALL_UUID,
      name: "small@example.org",
      token: SMALL_TOKEN,
      quotas: { diskspaceBytes: SMALL_QUOTA },
    },
  );
  return config;
}

export interface TestCloud {
  cloud: Devcloud;
  dataDir: string;
  /** `${url}/object-store/v1`. */
  store: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a devcloud running only the object-store module, in a fresh temp dir. */
export async function startTestCloud(): Promise<TestCloud> {
  const dataDir = await mkdtemp(join(tmpdir(), "icaas-pithos-"));
  const start = () => startDevcloud({ dataDir, config: testConfig(), services: [objectStoreFactory] });
  const t: TestCloud = {
    cloud: await start(),
    dataDir,
    store: "",
    async restart() {
      await t.cloud.close();
      t.cloud = await start();
      t.store = `${t.cloud.url}/object-store/v1`;
    },
    async close() {
      await t.cloud.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  t.store = `${t.cloud.url}/object-store/v1`;
  return t;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  json(): unknown;
}

/** One HTTP call with the demo token unless `token` says otherwise (`null`: no token). */
export async function call(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    token?: string | null;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  if (token !== null) headers["x-auth-token"] = token;
  const body = typeof options.body === "string" ? Buffer.from(options.body) : options.body;
  const res = await fetch(url, {
    method: options.method ?? "GET",
    headers,
    body: body === undefined ? undefined : new Uint8Array(body),
  });
  const data = Buffer.from(await res.arrayBuffer());
  const text = data.toString("utf8");
  return { status: res.status, headers: res.headers, body: data, text, json: () => JSON.parse(text) };
}

export { DEMO_TOKEN, DEMO_USER_UUID };
