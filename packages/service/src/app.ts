/** @module app — the Fastify application: parsers, schemas, routes, error handling, metrics, the UI. */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { ServiceContext } from "./context.ts";
import { installJsonBodyParser } from "./http/body-parser.ts";
import {
  clientErrorHandler,
  frameworkErrors,
  installClosingAnswer,
  installErrorHandler,
} from "./http/error-handler.ts";
import { BuildSchema, ErrorBody } from "./http/schemas.ts";
import { defaultWebDir, installStatic } from "./http/static.ts";
import { installUnmatchedAnswer } from "./http/unmatched.ts";
import { redactUrl } from "./logger.ts";
import { agentRoutes } from "./routes/agent.ts";
import { buildRoutes } from "./routes/builds.ts";
import { healthRoutes, metricsRoute } from "./routes/health.ts";

/**
 * Builds the application (not listening). Tests call `listen({port: 0})` on it, or use
 * `startService`, which also runs the jobs.
 *
 * @example
 * const app = await buildApp(ctx, logger);
 * await app.listen({ host: "127.0.0.1", port: 0 });
 */
export async function buildApp(ctx: ServiceContext, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // One line per request is written by the onResponse hook below, with the nonce redacted.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: ctx.config.trustProxy,
    bodyLimit: ctx.config.bodyLimitBytes,
    // installClosingAnswer answers requests that arrive while closing, in the API's error shape.
    return503OnClosing: false,
    // Errors met before any route runs get the same {message, status, code} answer as the rest.
    frameworkErrors,
    clientErrorHandler,
    ajv: {
      customOptions: { allErrors: true, coerceTypes: "array", removeAdditional: true, useDefaults: true },
    },
  }) as unknown as FastifyInstance;

  installJsonBodyParser(app, ctx.config.bodyLimitBytes);
  installErrorHandler(app);
  installClosingAnswer(app);
  installUnmatchedAnswer(app);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "ICaaS — Image Creator as a Service",
        description:
          "Turns a source image URL into an image registered in the user's Synnefo account. A compatible superset of the original ICaaS API; see docs/api.md.",
        version: ctx.version,
      },
      tags: [
        { name: "builds", description: "The user API (X-Auth-Token)" },
        { name: "agent", description: "The agent API (manifest nonce, X-Icaas-Token)" },
        { name: "operations", description: "Health and UI settings" },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(ErrorBody);
  app.addSchema(BuildSchema);

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    ctx.metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      seconds,
    );
    request.log.info(
      {
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request",
    );
  });

  await app.register(async (scope) => buildRoutes(scope, ctx), { prefix: "/icaas" });
  await app.register(async (scope) => agentRoutes(scope, ctx), { prefix: "/icaas" });
  await app.register(async (scope) => healthRoutes(scope, ctx), { prefix: "/icaas" });
  await app.register(async (scope) => metricsRoute(scope, ctx));
  installStatic(app, ctx.config.webDir ?? defaultWebDir());
  return app;
}
