/** @module routes/health — liveness/readiness, the UI's public settings, Prometheus metrics, the spec. */
import type { FastifyInstance } from "fastify";
import type { ServiceContext } from "../context.ts";
import { HealthSchema, PublicConfigSchema } from "../http/schemas.ts";

/** `/icaas/health`, `/icaas/config`, `/icaas/openapi.json` (under the /icaas prefix). */
export async function healthRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness and readiness",
        description: "200 when the database answers, 503 otherwise.",
        tags: ["operations"],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      let database = "ok";
      try {
        await ctx.store.ping();
      } catch {
        database = "unavailable";
      }
      const ok = database === "ok";
      reply.code(ok ? 200 : 503);
      return {
        status: ok ? "ok" : "unavailable",
        checks: { database },
        version: ctx.version,
        uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      };
    },
  );

  app.get(
    "/config",
    {
      schema: {
        summary: "Settings for the web UI",
        description: "Where to validate tokens, and whether this is a demo (never a token).",
        tags: ["operations"],
        response: { 200: PublicConfigSchema },
      },
    },
    async () => ({
      authUrl: ctx.config.authUrl,
      demo: ctx.config.demo,
      ...(ctx.config.demoTokenHint ? { demoTokenHint: ctx.config.demoTokenHint } : {}),
    }),
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}

/** `/metrics` at the root, where Prometheus looks by default. */
export async function metricsRoute(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    reply.header("content-type", ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
