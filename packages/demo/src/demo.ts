/** @module demo — a devcloud whose VMs run the real agent and the service together on loopback: the UI, a demo token, a curl example. */
import { join, resolve } from "node:path";
import { agentCommand } from "@icaas/agent/testing";
import { DEMO_TOKEN, DEMO_USER_UUID } from "@icaas/devcloud";
import { envName, loadConfig, type ServiceConfig } from "@icaas/service";
import { type Stack, startStack } from "@icaas/service/testing";
import { type Sample, serveSample } from "./sample.ts";

export interface DemoOptions {
  /** Holds `devcloud/`, `service/` and `samples/`; default `$ICAAS_DEMO_DATA` or `./.data`. */
  dataDir?: string;
  /** The service's port; default `$PORT` or 8080. */
  port?: number;
  /** The devcloud's port; default `$ICAAS_DEMO_CLOUD_PORT` or 8081 (0 picks one). */
  cloudPort?: number;
  /** Build and serve a small Debian disk image to try (needs mkfs.ext4); default true. */
  sample?: boolean;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
  /** Where problems that do not stop the demo are told (config warnings, a sample that failed). */
  warn?: (line: string) => void;
}

export interface Demo extends Stack {
  /** The sample image's URL, when one is served. */
  sampleUrl?: string;
  /** The lines printed at start. */
  banner: string[];
}

/**
 * Starts the demo: the sample source, a devcloud whose agent image runs the real agent and the
 * service with SQLite, then prints where everything is. The environment (`ICAAS_*`) wins over the
 * demo's settings.
 *
 * @example
 * const demo = await startDemo({ port: 0, cloudPort: 0, dataDir: "/tmp/demo", sample: false });
 * await demo.close();
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const env = options.env ?? process.env;
  const print = options.print ?? console.log;
  const warn = options.warn ?? console.error;
  const data = resolve(options.dataDir ?? env.ICAAS_DEMO_DATA ?? ".data");
  const port = options.port ?? Number(env.PORT ?? 8080);
  const cloudPort = options.cloudPort ?? Number(env.ICAAS_DEMO_CLOUD_PORT ?? 8081);

  let sample: Sample | undefined;
  let sampleProblem: string | undefined;
  if (options.sample !== false) {
    try {
      sample = await serveSample(join(data, "samples"));
    } catch (error) {
      sampleProblem = error instanceof Error ? error.message : String(error);
      warn(`demo: no sample image (${sampleProblem}); builds need a source of your own`);
    }
  }
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: data,
      cloudPort,
      agent: agentCommand(),
      service: {
        port,
        publicUrl: `http://127.0.0.1:${port}`,
        demo: true,
        demoTokenHint: "The demo token is printed in the terminal running the demo.",
        jobPollMs: 250,
        sweeperIntervalMs: 5000,
        logLevel: "warn",
        // Served on loopback, which the source policy refuses: the demo allow-lists exactly this server.
        sourceAllowList: sample ? [new URL(sample.url).host] : [],
      },
      configure: (settings) => demoConfig(settings, env, warn),
    });
  } catch (error) {
    await sample?.server.close();
    throw error;
  }

  const api = stack.service.endpoint;
  const src = sample?.url ?? "https://example.org/images/my-image.qcow2";
  const banner = [
    "ICaaS demo (devcloud + service, SQLite)",
    `  web UI:      ${stack.service.url}/`,
    `  API:         ${api}`,
    `  devcloud:    ${stack.cloud.url} (auth URL ${stack.cloud.authUrl})`,
    `  demo token:  ${DEMO_TOKEN} (user ${DEMO_USER_UUID})`,
    `  data:        ${data}`,
    "  agent:       the ICaaS agent runs in each devcloud VM",
    sample
      ? `  sample:      ${sample.url} (a small Debian 12 disk image)`
      : `  sample:      none${sampleProblem ? ` (${sampleProblem})` : ""}`,
    "",
    "Create a build:",
    `  curl -s -X POST ${api}/builds -H 'X-Auth-Token: ${DEMO_TOKEN}' \\`,
    `    -H 'Content-Type: application/json' -d '{"build": {"name": "my-image", "src": "${src}"}}'`,
    "Watch it:",
    `  curl -s '${api}/builds?details=1' -H 'X-Auth-Token: ${DEMO_TOKEN}'`,
  ];
  for (const line of banner) print(line);
  return {
    ...stack,
    sampleUrl: sample?.url,
    banner,
    async close() {
      try {
        await stack.close();
      } finally {
        await sample?.server.close();
      }
    },
  };
}

/** The demo's settings, except those the environment sets (ICAAS_LOG_LEVEL=debug, …); warnings are told. */
function demoConfig(
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): ServiceConfig {
  const overrides = Object.fromEntries(
    Object.entries(settings).filter(([key]) => env[envName(key)] === undefined),
  );
  const { config, warnings } = loadConfig({ env, overrides });
  for (const warning of warnings) warn(`demo: ${warning}`);
  // On a port picked by the system, the URL the service gives out is the one it listens on.
  if (config.port === 0) delete (config as { publicUrl?: string }).publicUrl;
  return config;
}
