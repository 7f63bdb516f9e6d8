/** @module main — the commands behind `icaas-service`: start (until a signal), migrate, show the config. */
import { ConfigError, loadConfig, type ServiceConfig } from "./config.ts";
import { SecretBox } from "./crypto.ts";
import { parseDatabaseUrl } from "./db/dialect.ts";
import { openStore } from "./db/store.ts";
import { createLogger } from "./logger.ts";
import { loadKey, type RunningService, startService } from "./service.ts";

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Where messages for people go (stderr by default). */
  print?: (line: string) => void;
}

function load(options: CommandOptions): ServiceConfig {
  const { config, warnings } = loadConfig({ env: options.env });
  for (const warning of warnings) (options.print ?? console.error)(`icaas-service: ${warning}`);
  return config;
}

/**
 * Starts the service and stops it gracefully on SIGTERM/SIGINT: no new requests, running jobs finish
 * (their leases expire otherwise), the database is closed.
 */
export async function start(options: CommandOptions = {}): Promise<RunningService> {
  const config = load(options);
  const service = await startService(config, { logger: createLogger(config.logLevel) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    service
      .close()
      .then(() => process.exit(0))
      .catch((error) => {
        service.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return service;
}

/** Applies the migrations and exits (deployments that migrate before rolling out). */
export async function migrate(options: CommandOptions = {}): Promise<void> {
  const config = load(options);
  const box = new SecretBox(loadKey(config));
  const target = parseDatabaseUrl(config.databaseUrl, config.dataDir);
  const store = await openStore(target, box.keyId);
  await store.close();
  (options.print ?? console.error)(`icaas-service: ${target.dialect} database is up to date`);
}

/** The effective configuration, secrets hidden: what `icaas-service config` prints. */
export function describeConfig(options: CommandOptions = {}): Record<string, unknown> {
  const config = load(options);
  return {
    ...config,
    ...(config.encryptionKey ? { encryptionKey: "[set]" } : {}),
    ...(config.databaseUrl
      ? { databaseUrl: config.databaseUrl.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@") }
      : {}),
  };
}

/** Runs a command, turning a configuration error into a clear message and exit code 2. */
export async function run(
  command: () => Promise<unknown>,
  print: (line: string) => void = console.error,
): Promise<void> {
  try {
    await command();
  } catch (error) {
    if (error instanceof ConfigError) {
      print(`icaas-service: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    print(`icaas-service: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
