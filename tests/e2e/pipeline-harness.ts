/** @module tests/e2e/pipeline-harness — a devcloud whose VMs run the real agent, the real service, an image source. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { e2eAgentCommand, type SourceServer, startSourceServer } from "@icaas/agent/testing";
import { type Build, isFinal } from "@icaas/contract";
import type { SynnefoRelease } from "@icaas/devcloud";
import {
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type Devcloud,
  type DevcloudConfig,
  type DevUser,
} from "@icaas/devcloud";
import {
  type DevcloudServer,
  findServer,
  type ServiceSettings,
  type Stack,
  startStack,
  TEST_SERVICE_SETTINGS,
} from "@icaas/service/testing";
import { PithosClient, PlanktonClient } from "@icaas/synnefo";

export const run = promisify(execFile);

/**
 * The Synnefo releases the whole suite runs against: the strictest (0.16: `images/` only, bare list,
 * versioned catalog) and the newest. What passes on both passes on the releases between.
 */
export const E2E_RELEASES: readonly SynnefoRelease[] = ["0.16", "latest"];

/**
 * `describe` once per release of `E2E_RELEASES`, side by side (most of a build is waiting: for the
 * VM, the source, the reports), so the second release costs far less than a second run.
 * `body` gets the release to start its pipeline with.
 */
export function describeEachRelease(name: string, body: (synnefo: SynnefoRelease) => void): void {
  describe(name, { concurrency: E2E_RELEASES.length }, () => {
    for (const synnefo of E2E_RELEASES) describe(`Synnefo ${synnefo}`, () => body(synnefo));
  });
}

/** A second user whose Pithos holds only a few MiB (the quota failure path). */
export const SMALL_USER: DevUser = {
  uuid: "5c0ffee0-1234-4abc-8def-000000000001",
  name: "small@example.org",
  token: "small-quota-token-0123456789abcdefghijklmn",
  quotas: { vms: 5, cpu: 10, ramMiB: 10240, diskGiB: 200, diskspaceBytes: 4 * 2 ** 20 },
};

export interface Pipeline extends Stack {
  src: SourceServer;
  /** The stack's temporary directory, for a test's own files. */
  dir: string;
  pithos(token?: string, account?: string): PithosClient;
  plankton(token?: string): PlanktonClient;
}

/**
 * A suite's pipeline: started before its tests, then `setup` prepares what they share (source
 * images); closed after them, injected faults cleared first so nothing the stack waits on still hangs.
 */
export function suitePipeline(synnefo: SynnefoRelease, setup: (p: Pipeline) => Promise<void>): void {
  let p: Pipeline | undefined;
  before(async () => {
    p = await startPipeline({ synnefo });
    await setup(p);
  });
  after(async () => {
    p?.cloud.injection.set({});
    await p?.close();
  });
}

/**
 * Starts a devcloud whose VMs run the agent, the service with short intervals and a source server,
 * all on 127.0.0.1; `close()` stops them and removes their files.
 */
export async function startPipeline(
  options: {
    agentCommand?: string[];
    /** Merged into the service's config; a function gets the running devcloud (its port for guest-visible URLs). */
    service?: ServiceSettings | ((cloud: Devcloud) => ServiceSettings);
    synnefo?: SynnefoRelease;
    /** Merged into the devcloud's config (e.g. a flavor on the qemu driver). */
    devcloud?: Partial<DevcloudConfig>;
  } = {},
): Promise<Pipeline> {
  const dir = await mkdtemp(join(tmpdir(), "icaas-e2e-"));
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: dir,
      users: [SMALL_USER],
      agent: options.agentCommand ?? (await e2eAgentCommand(dir)),
      cloud: {
        bootSeconds: 0.05,
        ...(options.synnefo ? { synnefo: options.synnefo } : {}),
        ...options.devcloud,
      },
      service: (cloud) => ({
        ...TEST_SERVICE_SETTINGS,
        logLevel: "silent",
        progressIntervalSeconds: 0.5,
        manifestTimeoutSeconds: 120,
        agentSilenceSeconds: 60,
        buildTimeoutSeconds: 600,
        jobPollMs: 50,
        jobBackoffMs: 100,
        jobMaxBackoffMs: 1000,
        sweeperIntervalMs: 500,
        ...(typeof options.service === "function" ? options.service(cloud) : options.service),
      }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const src = await startSourceServer();
  const storageUrl = `${stack.cloud.url}/object-store/v1`;
  return {
    ...stack,
    src,
    dir,
    pithos: (token = DEMO_TOKEN, account = DEMO_USER_UUID) =>
      new PithosClient({ storageUrl, account, token }),
    plankton: (token = DEMO_TOKEN) =>
      new PlanktonClient({ imageUrl: `${stack.cloud.url}/image/v1.0`, token }),
    async close() {
      try {
        await stack.close();
      } finally {
        await src.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface ApiAnswer {
  status: number;
  body: { build?: Build; message?: string; code?: string } | undefined;
}

export type { Build, BuildStep } from "@icaas/contract";

export async function api(
  p: Pipeline,
  path: string,
  options: { method?: string; body?: unknown; token?: string } = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${p.api}${path}`, {
    method: options.method ?? "GET",
    headers: {
      "x-auth-token": options.token ?? DEMO_TOKEN,
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as ApiAnswer["body"]) : undefined };
}

/** POSTs a build and returns its id. */
export async function createBuild(
  p: Pipeline,
  build: Record<string, unknown>,
  token?: string,
): Promise<number> {
  const answer = await api(p, "/builds", { method: "POST", body: { build }, token });
  if (answer.status !== 202) throw new Error(`POST /builds: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body!.build!.id;
}

/** Polls the build until `until` holds (default: a final state), within `timeoutMs`. */
export async function waitBuild(
  p: Pipeline,
  id: number,
  options: { until?: (b: Build) => boolean; timeoutMs?: number; token?: string } = {},
): Promise<Build> {
  const until = options.until ?? ((b: Build) => isFinal(b.status));
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  let last: Build | undefined;
  for (;;) {
    last = (await api(p, `/builds/${id}`, { token: options.token })).body?.build;
    if (last && until(last)) return last;
    if (Date.now() > deadline) throw new Error(`build ${id} timed out: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

/** The devcloud VM of a build (its name carries the build id). */
export function serverOf(p: Pipeline, buildId: number): Promise<DevcloudServer | undefined> {
  return findServer(p.cloud, buildId);
}

/** Waits until the build's VM is deleted and its agent process is gone. */
export async function waitVmGone(p: Pipeline, buildId: number, timeoutMs = 30_000): Promise<DevcloudServer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await serverOf(p, buildId);
    if (s?.deleted && s.destroyed && s.process?.state !== "running" && !(s.pid && alive(s.pid))) return s;
    if (Date.now() > deadline) throw new Error(`VM of build ${buildId} not gone: ${JSON.stringify(s)}`);
    await sleep(100);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Asserts a build ended in ERROR with this code and step, and its VM is deleted. */
export async function expectError(
  p: Pipeline,
  id: number,
  code: string,
  step: string,
  token?: string,
): Promise<Build & { error: NonNullable<Build["error"]> }> {
  const build = await waitBuild(p, id, { token });
  if (build.status !== "ERROR" || build.error?.code !== code || build.error?.step !== step) {
    throw new Error(`expected ERROR ${code} at ${step}, got ${build.status} ${JSON.stringify(build.error)}`);
  }
  const failed = build.steps.find((s) => s.name === step);
  if (failed?.state !== "failed") throw new Error(`step ${step} is ${failed?.state}, not failed`);
  if (build.status_details.details !== build.error?.message) {
    throw new Error(`details ${JSON.stringify(build.status_details.details)} is not the error message`);
  }
  const vm = await waitVmGone(p, id);
  if (vm.status !== "DELETED") throw new Error(`VM of build ${id} is ${vm.status}`);
  return build as Build & { error: NonNullable<Build["error"]> };
}

/** Reads a Pithos object into a local file. */
export async function download(
  pithos: PithosClient,
  container: string,
  object: string,
  path: string,
): Promise<void> {
  const { createWriteStream } = await import("node:fs");
  const { pipeline } = await import("node:stream/promises");
  const res = await pithos.getObject(container, object);
  await pipeline(res.body, createWriteStream(path));
}
