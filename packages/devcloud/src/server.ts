/** @module server — one HTTP port serving every Synnefo API a devcloud has, plus its admin routes. */
import { mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type DevcloudConfig, defaultConfig } from "./config.ts";
import type { DevcloudContext, ServiceFactory, ServiceModule } from "./context.ts";
import { Fault } from "./fault.ts";
import { readJson, sendEmpty, sendFault, sendJson } from "./http-util.ts";
import { Counters, type FaultSettings, Injection, type ServiceName } from "./injection.ts";
import { releaseProfile, type SynnefoRelease } from "./release.ts";
import { Router } from "./router.ts";
import { SERVICE_FACTORIES } from "./services.ts";
import { UserDirectory } from "./users.ts";

export interface DevcloudOptions {
  /** Where blocks, objects and VM directories live; kept across restarts. */
  dataDir: string;
  config?: DevcloudConfig;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Overrides the service list (tests of a single module). */
  services?: ServiceFactory[];
}

export interface Devcloud {
  /** e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Astakos' identity endpoint: `${url}/identity/v2.0`. */
  authUrl: string;
  /** The Synnefo release it plays (`config.synnefo`, default `0.16`). */
  release: SynnefoRelease;
  port: number;
  counters: Counters;
  injection: Injection;
  modules: Map<ServiceName, ServiceModule>;
  close(): Promise<void>;
}

/**
 * Starts a devcloud.
 *
 * @example
 * const cloud = await startDevcloud({ dataDir: "/tmp/dc" });
 * // POST `${cloud.authUrl}/tokens` with the demo token…
 * await cloud.close();
 */
export async function startDevcloud(options: DevcloudOptions): Promise<Devcloud> {
  const config = options.config ?? defaultConfig();
  await mkdir(options.dataDir, { recursive: true });
  const counters = new Counters();
  const injection = new Injection();
  const modules = new Map<ServiceName, ServiceModule>();
  let baseUrl = "";
  let guestUrl = "";
  const ctx: DevcloudContext = {
    config,
    release: releaseProfile(config.synnefo),
    dataDir: options.dataDir,
    publicUrl: () => baseUrl,
    urlFor: (req) => (guestUrl && req.headers.host === new URL(guestUrl).host ? guestUrl : baseUrl),
    users: new UserDirectory(config.users),
    counters,
    injection,
    module: <T extends ServiceModule>(name: ServiceName) => {
      const found = modules.get(name);
      if (!found) throw new Error(`devcloud has no ${name} service`);
      return found as T;
    },
  };
  for (const factory of options.services ?? SERVICE_FACTORIES) {
    const module = factory(ctx);
    modules.set(module.name, module);
  }
  for (const module of modules.values()) await module.start?.();

  const admin = adminRouter(counters, injection);
  const routes: { router: Router; service: ServiceName | null }[] = [];
  for (const module of modules.values()) {
    for (const router of module.routers) routes.push({ router, service: module.name });
    if (module.admin) routes.push({ router: module.admin, service: null });
  }
  routes.push({ router: admin, service: null });
  // Longest prefix first, so `/_devcloud/compute` wins over `/_devcloud`.
  routes.sort((a, b) => b.router.prefix.length - a.router.prefix.length);

  const server = createServer((req, res) => {
    handle(req, res, routes, counters, injection).catch((error) => fail(req, res, error));
  });
  server.keepAliveTimeout = 30_000;
  await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  guestUrl = (config.guestUrl ?? `http://10.0.2.2:${port}`).replace(/\/+$/, "");

  return {
    url: baseUrl,
    authUrl: `${baseUrl}/identity/v2.0`,
    release: ctx.release.release,
    port,
    counters,
    injection,
    modules,
    async close() {
      // Compute first: its VMs' agents still talk to Pithos and the rest while they stop (SIGTERM).
      const order = [...modules.values()].reverse().sort((a, b) => rank(a) - rank(b));
      for (const module of order) await module.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Modules that run clients of the others close before them. */
function rank(module: ServiceModule): number {
  return module.name === "compute" ? 0 : 1;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: { router: Router; service: ServiceName | null }[],
  counters: Counters,
  injection: Injection,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://devcloud");
  const route = routes.find((r) => r.router.owns(url.pathname));
  if (!route) {
    throw new Fault(404, "itemNotFound", "Not Found");
  }
  if (route.service) {
    counters.add(`requests.${route.service}`);
    const faults = injection.for(route.service);
    // Unref'd: a long injected latency must not keep a closed devcloud's process alive.
    if (faults.latencyMs) await sleep(faults.latencyMs, undefined, { ref: false });
    if (faults.errorRate && Math.random() < faults.errorRate) {
      counters.add(`injected.${route.service}`);
      // Drain the body so the client sees the answer, not a reset connection.
      req.resume();
      throw new Fault(503, "serviceUnavailable", "Service Unavailable (injected)");
    }
    if (faults.failBlockPosts && isBlockPost(req, url)) {
      counters.add(`injected.${route.service}`);
      req.resume();
      throw new Fault(503, "serviceUnavailable", "Service Unavailable (injected)");
    }
    if (faults.overLimit && (req.method === "PUT" || req.method === "POST")) {
      req.resume();
      throw new Fault(
        413,
        "overLimit",
        "Resource Limit Exceeded for your account.",
        "Limit for resource 'Storage space' exceeded for your account. Available: 0, Requested: 1",
      );
    }
  }
  await route.router.dispatch(req, res, url);
}

/** A POST of blocks to a container (`/object-store/v1/<account>/<container>`), as uploads send them. */
function isBlockPost(req: IncomingMessage, url: URL): boolean {
  return (
    req.method === "POST" &&
    req.headers["content-type"] === "application/octet-stream" &&
    /^\/object-store\/v1\/[^/]+\/[^/]+\/?$/.test(url.pathname)
  );
}

function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  // A client that went away mid-request (a canceled upload, a killed agent) is not a devcloud fault.
  if (res.destroyed || req.socket.destroyed) {
    res.destroy();
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof Fault) {
    sendFault(res, error);
    return;
  }
  console.error("devcloud: internal error:", error);
  sendFault(res, new Fault(500, "internalServerError", "Internal Server Error"));
}

function adminRouter(counters: Counters, injection: Injection): Router {
  return new Router("/_devcloud")
    .add("GET", "/counters", ({ res }) => sendJson(res, 200, counters.snapshot()))
    .add("DELETE", "/counters", ({ res }) => {
      counters.reset();
      sendEmpty(res, 204);
    })
    .add("GET", "/faults", ({ res }) => sendJson(res, 200, injection.get()))
    .add("PUT", "/faults", async ({ req, res }) => {
      injection.set((await readJson(req)) as FaultSettings);
      sendEmpty(res, 204);
    });
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
