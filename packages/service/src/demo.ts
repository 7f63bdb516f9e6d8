/** @module demo — a devcloud and the service together on loopback: the UI, a demo token, a curl example. */
import { createReadStream, existsSync, mkdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  AGENT_IMAGE_ID,
  DEMO_TOKEN,
  DEMO_USER_UUID,
  type Devcloud,
  defaultConfig,
  startDevcloud,
} from "@icaas/devcloud";
import { envName, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { type RunningService, startService } from "./service.ts";

export interface DemoOptions {
  /** Holds `devcloud/`, `service/` and `samples/`; default `$ICAAS_DEMO_DATA` or `./.data`. */
  dataDir?: string;
  /** The service's port; default `$PORT` or 8080. */
  port?: number;
  /** The devcloud's port; default `$ICAAS_DEMO_CLOUD_PORT` or 8081 (0 picks one). */
  cloudPort?: number;
  /** Build and serve a small Debian disk image to try (needs the imageprep package and mkfs.ext4). */
  sample?: boolean;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}

export interface Demo {
  cloud: Devcloud;
  service: RunningService;
  /** The sample image's URL, when one is served. */
  sampleUrl?: string;
  /** The lines printed at start. */
  banner: string[];
  close(): Promise<void>;
}

/** The repository root: the nearest parent with a workspaces package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, "packages")) && existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/**
 * The agent each agent VM runs: the agent's CLI through tsx (an absolute loader URL, because the VM
 * process runs in its own directory, outside the repository).
 */
export function agentCommand(root = repoRoot()): string[] | undefined {
  const cli = join(root, "packages", "agent", "src", "cli.ts");
  if (!existsSync(cli)) return undefined;
  return [process.execPath, "--import", import.meta.resolve("tsx"), cli, "--root", "{root}"];
}

/** Builds `samples/debian12.img` once and serves it over HTTP on loopback. */
async function serveSample(dir: string): Promise<{ url: string; server: Server } | undefined> {
  const path = join(dir, "debian12.img");
  if (!existsSync(path)) {
    try {
      const testing = "@icaas/imageprep/testing";
      const { buildTestDisk } = (await import(testing)) as {
        buildTestDisk: (o: { path: string; swap?: boolean; diskMiB?: number }) => Promise<unknown>;
      };
      mkdirSync(dir, { recursive: true });
      await buildTestDisk({ path, swap: true, diskMiB: 96 });
    } catch {
      return undefined;
    }
  }
  const server = createServer((req, res) => {
    if (req.url !== "/debian12.img") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": statSync(path).size });
    if (req.method === "HEAD") res.end();
    else createReadStream(path).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian12.img`, server };
}

/**
 * Starts the demo: a devcloud whose agent image runs the real agent (when its package is present)
 * and the service with SQLite, then prints where everything is.
 *
 * @example
 * const demo = await startDemo({ port: 0, cloudPort: 0, dataDir: "/tmp/demo", sample: false });
 * await demo.close();
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const env = options.env ?? process.env;
  const data = resolve(options.dataDir ?? env.ICAAS_DEMO_DATA ?? ".data");
  const port = options.port ?? Number(env.PORT ?? 8080);
  const cloudPort = options.cloudPort ?? Number(env.ICAAS_DEMO_CLOUD_PORT ?? 8081);
  const command = agentCommand();
  const cloudConfig = defaultConfig();
  if (command) cloudConfig.agent = { command };
  const cloud = await startDevcloud({
    dataDir: join(data, "devcloud"),
    config: cloudConfig,
    port: cloudPort,
  });

  // Served on loopback, which the source policy refuses: the demo allow-lists exactly this server.
  const sample = options.sample === false ? undefined : await serveSample(join(data, "samples"));
  // The demo's settings, unless the environment says otherwise (ICAAS_LOG_LEVEL=debug, …).
  const demoDefaults: Record<string, unknown> = {
    host: "127.0.0.1",
    port,
    publicUrl: `http://127.0.0.1:${port}`,
    authUrl: cloud.authUrl,
    agentImageId: AGENT_IMAGE_ID,
    agentFlavorId: "1",
    dataDir: join(data, "service"),
    demo: true,
    demoTokenHint: "The demo token is printed in the terminal running the demo.",
    jobPollMs: 250,
    sweeperIntervalMs: 5000,
    logLevel: "warn",
    sourceAllowList: sample ? [new URL(sample.url).host] : [],
  };
  const overrides = Object.fromEntries(
    Object.entries(demoDefaults).filter(([key]) => env[envName(key)] === undefined),
  );
  let service: RunningService;
  try {
    const { config } = loadConfig({ env, overrides });
    if (port === 0) delete (config as { publicUrl?: string }).publicUrl;
    service = await startService(config, { logger: createLogger(config.logLevel) });
  } catch (error) {
    await cloud.close();
    sample?.server.close();
    throw error;
  }
  const api = service.endpoint;
  const src = sample?.url ?? "https://example.org/images/my-image.qcow2";
  const banner = [
    "ICaaS demo (devcloud + service, SQLite)",
    `  web UI:      ${service.url}/`,
    `  API:         ${api}`,
    `  devcloud:    ${cloud.url} (auth URL ${cloud.authUrl})`,
    `  demo token:  ${DEMO_TOKEN} (user ${DEMO_USER_UUID})`,
    `  data:        ${data}`,
    command
      ? "  agent:       the ICaaS agent runs in each devcloud VM"
      : "  agent:       packages/agent/src/cli.ts not found: VMs start but nothing builds the image",
    ...(sample ? [`  sample:      ${sample.url} (a small Debian 12 disk image)`] : []),
    "",
    "Create a build:",
    `  curl -s -X POST ${api}/builds -H 'X-Auth-Token: ${DEMO_TOKEN}' \\`,
    `    -H 'Content-Type: application/json' -d '{"build": {"name": "my-image", "src": "${src}"}}'`,
    "Watch it:",
    `  curl -s '${api}/builds?details=1' -H 'X-Auth-Token: ${DEMO_TOKEN}'`,
  ];
  for (const line of banner) (options.print ?? console.log)(line);
  return {
    cloud,
    service,
    sampleUrl: sample?.url,
    banner,
    async close() {
      await service.close();
      await cloud.close();
      await new Promise<void>((ok) => (sample ? sample.server.close(() => ok()) : ok()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const demo = await startDemo().catch((error: unknown) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log("\nstopping…");
    demo.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
