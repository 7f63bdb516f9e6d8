/**
 * @module bench/api — ICaaS API throughput on SQLite: 10,000 stored builds, GET of a 50-build detailed
 * page of a user owning 1,000, and POST (create) — measured with wrk on loopback.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEMO_TOKEN, DEMO_USER_UUID } from "@icaas/devcloud";
import {
  openStore,
  parseDatabaseUrl,
  SecretBox,
  seedBuilds,
  startCloudStack,
  TEST_SERVICE_SETTINGS,
} from "@icaas/service/testing";

const GOALS = { getRps: 5000, getP99Ms: 20, postRps: 500 };
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROOT = new URL("../../", import.meta.url).pathname;

interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

function ms(text: string): number {
  const m = text.match(/^([\d.]+)(us|ms|s)$/);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

/** Runs wrk (one thread: the other core serves) and reads its --latency report. */
async function wrk(url: string, script: string, label: string): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), "icaas-wrk-"));
  const lua = join(dir, "script.lua");
  writeFileSync(lua, script);
  // Asynchronous: the service runs in this process and must keep answering.
  const { stdout: out } = await promisify(execFile)(
    "wrk",
    ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", lua, url],
    {
      encoding: "utf8",
    },
  );
  rmSync(dir, { recursive: true, force: true });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const requests = Number(out.match(/(\d+) requests in/)?.[1]);
  const p50 = ms(out.match(/^\s+50%\s+(\S+)/m)?.[1] ?? "");
  const p99 = ms(out.match(/^\s+99%\s+(\S+)/m)?.[1] ?? "");
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  console.log(
    `${label}: ${rps.toFixed(0)} req/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${requests} requests, ${non2xx} non-2xx, ${errors} socket errors)`,
  );
  return { requests, rps, p50Ms: p50, p99Ms: p99, non2xx, errors };
}

async function main(): Promise<void> {
  // The machine is shared: the load before and after says how much the figures can be trusted.
  const loadBefore = loadavg()[0]!;
  if (spawnSync("wrk", ["--version"]).error) throw new Error("wrk is not installed (apt-get install wrk)");
  const encryptionKey = randomBytes(32).toString("base64");
  const stack = await startCloudStack({
    tempPrefix: "icaas-bench-api-",
    service: {
      ...TEST_SERVICE_SETTINGS,
      encryptionKey,
      // The API alone is measured: no VMs are created (jobs off).
      jobsEnabled: false,
      // Per-request log lines (info) are measured separately: BENCH_LOG_LEVEL=info.
      logLevel: process.env.BENCH_LOG_LEVEL ?? "warn",
    },
  });
  const config = stack.serviceConfig();

  const box = new SecretBox(Buffer.from(encryptionKey, "base64"));
  const store = await openStore(parseDatabaseUrl(undefined, config.dataDir), box.keyId);
  const users: Record<string, number> = { [DEMO_USER_UUID]: 1000 };
  for (let i = 0; i < 90; i++) users[`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`] = 100;
  const started = Date.now();
  const seeded = await seedBuilds(store, { users, token: DEMO_TOKEN, box });
  await store.close();
  console.log(
    `seeded ${seeded} builds (${users[DEMO_USER_UUID]} of them the benchmark user's) in ${Date.now() - started} ms`,
  );

  const headers = `wrk.headers["X-Auth-Token"] = "${DEMO_TOKEN}"\n`;
  const listUrl = (service: { url: string }) => `${service.url}/icaas/builds?details=1&limit=50`;

  // 1. GET as served: list pages are cached under the user's builds version (one indexed lookup per request).
  let service = await stack.startService();
  // One request first, so the token is validated and cached (Astakos is not what is measured).
  const first = await fetch(listUrl(service), { headers: { "x-auth-token": DEMO_TOKEN } });
  const page = (await first.json()) as { builds: unknown[] };
  const pageBytes = JSON.stringify(page).length;
  console.log(`GET page: ${page.builds.length} builds, ${pageBytes} bytes`);
  await wrk(listUrl(service), headers, "warm-up");
  const get = await wrk(
    listUrl(service),
    headers,
    `GET /icaas/builds?details=1&limit=50 (${CONNECTIONS} connections)`,
  );
  await service.close();

  // 2. The same GET with the page cache off: every request queries SQLite and renders the page.
  service = await stack.startService({ listCacheMegabytes: 0 });
  await fetch(listUrl(service), { headers: { "x-auth-token": DEMO_TOKEN } });
  const uncached = await wrk(listUrl(service), headers, "GET, page cache off");
  await service.close();

  // 3. POST: each request validates, seals the token, stores the build and its job in one transaction.
  service = await stack.startService();
  await fetch(listUrl(service), { headers: { "x-auth-token": DEMO_TOKEN } });
  const body = JSON.stringify({
    build: { name: "bench image", src: "https://downloads.example.org/images/bench.qcow2" },
  });
  const post = await wrk(
    `${service.url}/icaas/builds`,
    `${headers}wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${body}'\n`,
    `POST /icaas/builds (${CONNECTIONS} connections)`,
  );
  await stack.close();

  const result = {
    benchmark: "api",
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? "",
      node: process.version,
      loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0]!.toFixed(2)) },
    },
    setup: {
      database: "sqlite (WAL)",
      storedBuilds: seeded,
      userBuilds: users[DEMO_USER_UUID],
      pageBuilds: page.builds.length,
      pageBytes,
      loadGenerator: `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s (same machine, loopback)`,
      service: `one process, logLevel ${config.logLevel}, jobs off, auth cached`,
    },
    get: { path: "/icaas/builds?details=1&limit=50", pageCache: "on (default)", ...get },
    getUncached: {
      path: "/icaas/builds?details=1&limit=50",
      pageCache: "off (listCacheMegabytes 0)",
      ...uncached,
    },
    post: { path: "/icaas/builds", ...post },
    goals: GOALS,
    pass: {
      getRps: get.rps >= GOALS.getRps,
      getP99: get.p99Ms <= GOALS.getP99Ms,
      postRps: post.rps >= GOALS.postRps,
    },
  };
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "api.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `ratios to goals: GET ${(get.rps / GOALS.getRps).toFixed(2)}x req/s (uncached ${(uncached.rps / GOALS.getRps).toFixed(2)}x), p99 ${(get.p99Ms / GOALS.getP99Ms).toFixed(2)}x of the limit; POST ${(post.rps / GOALS.postRps).toFixed(2)}x req/s`,
  );
  if (get.non2xx > 0 || post.non2xx > 0 || uncached.non2xx > 0) {
    console.error("some requests failed");
    process.exitCode = 1;
  }
}

await main();
