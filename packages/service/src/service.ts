/** @module service — one running ICaaS instance: database, auth, HTTP server, job runner and sweeper. */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { VERSION } from "@icaas/contract";
import { AstakosClient, SynnefoError } from "@icaas/synnefo";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./app.ts";
import { Authenticator } from "./auth/authenticator.ts";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { PageCache } from "./builds/page-cache.ts";
import { type AgentCompute, CycladesCompute } from "./cloud/compute.ts";
import { agentEndpointOf, endpointOf, type ServiceConfig } from "./config.ts";
import { SEAL, type ServiceContext } from "./context.ts";
import { loadOrCreateKeyFile, parseKey, SecretBox } from "./crypto.ts";
import { parseDatabaseUrl } from "./db/dialect.ts";
import { openStore } from "./db/store.ts";
import { createAgent } from "./jobs/create-agent.ts";
import { destroyAgent } from "./jobs/destroy-agent.ts";
import { JobRunner } from "./jobs/runner.ts";
import { createLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { Sweeper, sweep } from "./sweeper.ts";

export interface StartOptions {
  logger?: Logger;
  /** Replaces the Cyclades adapter (a different cloud API). */
  compute?: AgentCompute;
}

export interface RunningService {
  app: FastifyInstance;
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** `<publicUrl>/icaas` */
  endpoint: string;
  ctx: ServiceContext;
  logger: Logger;
  /** Runs one sweep now (tests, operations). */
  sweep(): Promise<unknown>;
  /** Stops taking requests, lets running jobs finish, closes the database. */
  close(): Promise<void>;
}

/** The encryption key: configured, or generated once into `<dataDir>/secret.key`. */
export function loadKey(config: ServiceConfig): Buffer {
  return config.encryptionKey
    ? parseKey(config.encryptionKey)
    : loadOrCreateKeyFile(join(config.dataDir, "secret.key"));
}

/**
 * Starts an instance: migrates the database, listens, and (with `jobsEnabled`) runs the job runner
 * and the sweeper. Several instances may share one PostgreSQL database.
 *
 * @example
 * const service = await startService(resolveConfig({ authUrl, agentImageId, agentFlavorId, port: 0 }));
 * await service.close();
 */
export async function startService(
  config: ServiceConfig,
  options: StartOptions = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const box = new SecretBox(loadKey(config));
  const store = await openStore(parseDatabaseUrl(config.databaseUrl, config.dataDir), box.keyId);
  const cyclades =
    options.compute ??
    new CycladesCompute({
      authUrl: config.authUrl,
      computeUrl: config.computeUrl,
      timeoutMs: config.cloudTimeoutMs,
    });
  const astakos = new AstakosClient({
    authUrl: config.authUrl,
    timeoutMs: config.authTimeoutMs,
    retries: 1,
    backoffMs: 100,
  });
  const auth = new Authenticator({
    ttlMs: config.authCacheSeconds * 1000,
    lookup: async (token) => {
      try {
        const { user, catalog } = await astakos.authenticate(token);
        let computeUrl: string | undefined;
        try {
          computeUrl = catalog.endpoint("compute");
        } catch {
          // A catalog without compute: the configured URL (or a later lookup) is used.
        }
        return { valid: true, user: { uuid: user.uuid, name: user.name }, computeUrl };
      } catch (error) {
        if (error instanceof SynnefoError && (error.status === 401 || error.status === 400))
          return { valid: false };
        logger.warn(
          { error: error instanceof SynnefoError ? error.toJSON() : String(error) },
          "Astakos is unavailable",
        );
        throw error;
      }
    },
    onValidated: async (user, token, computeUrl) => {
      await store.builds.upsertUser(user.uuid, box.encrypt(token, SEAL.userToken));
      if (computeUrl && cyclades instanceof CycladesCompute) cyclades.learn(computeUrl);
    },
  });

  let runner: JobRunner | undefined;
  const ctx: ServiceContext = {
    config,
    endpoint: endpointOf(config),
    store,
    box,
    auth,
    requestLimiter: new RateLimiter(config.rateLimitPerMinute),
    createLimiter: new RateLimiter(config.createRateLimitPerMinute),
    metrics: new Metrics(() => store.builds.countByStatus()),
    pages: new PageCache(config.listCacheMegabytes * 2 ** 20),
    wakeJobs: () => runner?.wake(),
    startedAt: Date.now(),
    version: VERSION,
  };

  const app = await buildApp(ctx, logger);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (!config.publicUrl) ctx.endpoint = `${url}/icaas`;

  const jobLogger = logger.child({ component: "jobs" });
  const settings = () => ({
    endpoint: agentEndpointOf(config, ctx.endpoint),
    imageId: config.agentImageId,
    flavorId: config.agentFlavorId,
    networks: config.agentNetworks,
    project: config.agentProject,
  });
  let sweeper: Sweeper | undefined;
  if (config.jobsEnabled) {
    runner = new JobRunner({
      jobs: store.jobs,
      owner: `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`,
      concurrency: config.jobConcurrency,
      pollMs: config.jobPollMs,
      leaseMs: config.jobLeaseMs,
      backoffMs: config.jobBackoffMs,
      maxBackoffMs: config.jobMaxBackoffMs,
      logger: jobLogger,
      metrics: ctx.metrics,
      handlers: {
        create_agent: (job) =>
          createAgent(job, {
            ctx,
            compute: cyclades,
            logger: jobLogger,
            settings,
            maxAttempts: config.jobMaxAttempts,
          }),
        destroy_agent: (job) =>
          destroyAgent(job, {
            ctx,
            compute: cyclades,
            logger: jobLogger,
            waitMs: Math.max(config.jobPollMs, 50),
          }),
      },
    });
    runner.start();
    sweeper = new Sweeper(ctx, logger.child({ component: "sweeper" }), config.sweeperIntervalMs);
    sweeper.start();
  }
  logger.info(
    { url, endpoint: ctx.endpoint, database: store.dialect, jobs: config.jobsEnabled },
    "ICaaS service started",
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    get endpoint() {
      return ctx.endpoint;
    },
    ctx,
    logger,
    sweep: () => sweep(ctx, logger),
    close() {
      closing ??= (async () => {
        await app.close();
        await sweeper?.stop();
        await runner?.stop();
        await store.close();
        logger.info("ICaaS service stopped");
      })();
      return closing;
    },
  };
}
