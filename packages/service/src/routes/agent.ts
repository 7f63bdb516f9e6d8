/** @module routes/agent — the agent's side: its one-time manifest and its status reports. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { endBuild } from "../builds/end-build.ts";
import { buildManifest } from "../builds/manifest.ts";
import { sourcePolicyOf } from "../builds/source-policy.ts";
import { agentEndpointOf } from "../config.ts";
import type { ServiceContext } from "../context.ts";
import { SEAL } from "../context.ts";
import { randomToken, sameHash, sha256Hex } from "../crypto.ts";
import { parseObject } from "../db/builds-repository.ts";
import { BUILD_STATUSES, type BuildRow, type BuildStatus } from "../db/schema.ts";
import { errors } from "../errors.ts";
import {
  AgentTokenHeaders,
  errorResponses,
  IdParams,
  ManifestParams,
  ManifestSchema,
  ReportBody,
} from "../http/schemas.ts";

/** Lines of the agent's log kept on the build. */
export const LOG_TAIL_LINES = 50;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Registers the agent routes; they authenticate by nonce (manifest) and agent token (reports). */
export async function agentRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.get(
    "/builds/agent/:id/:nonce",
    {
      schema: {
        summary: "Fetch the manifest (agent)",
        description:
          "Served once, within the manifest timeout; the nonce comes from /etc/icaas/manifest.cfg.",
        tags: ["agent"],
        params: ManifestParams,
        response: { 200: ManifestSchema, ...errorResponses(403) },
      },
      config: { validationErrors: () => errors.manifestForbidden() },
    },
    async (request, reply) => {
      const { id, nonce } = request.params as { id: number; nonce: string };
      const row = await ctx.store.builds.find(id);
      if (!row || row.deleted === 1 || !sameHash(row.nonce_hash, sha256Hex(nonce)))
        throw errors.manifestForbidden();
      if (row.nonce_used === 1) throw errors.manifestForbidden();
      if (row.created_at + ctx.config.manifestTimeoutSeconds * 1000 < Date.now()) {
        await ctx.store.builds.burnNonce(id);
        await endBuild(ctx, id, "ERROR", "manifest_expired", {
          details: "Agent start up expired",
          error: {
            code: "manifest_timeout",
            message: `The agent did not fetch its manifest within ${ctx.config.manifestTimeoutSeconds} seconds`,
          },
        });
        throw errors.manifestExpired();
      }
      if (row.status !== "CREATING") throw errors.buildNotActive();
      const agentToken = randomToken(32);
      const statusDetails = JSON.stringify({
        ...parseObject(row.status_details),
        details: "Agent booted normally",
      });
      if (!(await ctx.store.builds.claimManifest(id, sha256Hex(agentToken), statusDetails))) {
        // Another fetch or a state change won the race.
        const now = await ctx.store.builds.find(id);
        throw now && now.status !== "CREATING" && now.nonce_used === 0
          ? errors.buildNotActive()
          : errors.manifestForbidden();
      }
      const userToken = ctx.box.decrypt(row.user_token_sealed, SEAL.userToken);
      reply.header("cache-control", "no-store");
      return buildManifest(
        row,
        { agentToken, userToken },
        {
          endpoint: agentEndpointOf(ctx.config, ctx.endpoint),
          authUrl: ctx.config.agentAuthUrl ?? ctx.config.authUrl,
          insecure: ctx.config.insecure,
          progressHeuristic: ctx.config.progressHeuristic,
          progressIntervalSeconds: ctx.config.progressIntervalSeconds,
          maxDownloadBytes: ctx.config.maxDownloadBytes,
          minDownloadBytesPerSecond: ctx.config.minDownloadBytesPerSecond,
          downloadWindowSeconds: ctx.config.downloadWindowSeconds,
          buildTimeoutSeconds: ctx.config.buildTimeoutSeconds,
          sourcePolicy: sourcePolicyOf(ctx),
        },
      );
    },
  );

  app.put(
    "/builds/agent/:id",
    {
      schema: {
        summary: "Report status (agent)",
        description: "Merged into the build. COMPLETED and ERROR end it and destroy the agent VM.",
        tags: ["agent"],
        headers: AgentTokenHeaders,
        params: IdParams,
        body: ReportBody,
        response: { 204: { type: "null", description: "Accepted." }, ...errorResponses(400, 401, 403, 404) },
      },
      // The original's order of checks mixes lookups and body checks; the handler applies it.
      attachValidation: true,
    },
    async (request, reply) => {
      const token = header(request, "x-icaas-token");
      if (!token) throw errors.agentTokenMissing();
      if (request.validationError?.validationContext === "params") throw errors.buildNotFound();
      const { id } = request.params as { id: number };
      const row = await ctx.store.builds.find(id);
      if (
        !row ||
        row.deleted === 1 ||
        !row.agent_token_hash ||
        !sameHash(row.agent_token_hash, sha256Hex(token))
      )
        throw errors.buildNotFound();
      const body = request.body as Record<string, unknown> | undefined;
      if (body === undefined || body === null || (typeof body === "object" && Object.keys(body).length === 0))
        throw errors.reportEmpty();
      if (typeof body !== "object" || Array.isArray(body) || !("status" in body))
        throw errors.statusMissing();
      if (typeof body.status !== "string" || !BUILD_STATUSES.includes(body.status as BuildStatus))
        throw errors.statusInvalid();
      if (row.status !== "CREATING") throw errors.buildNotActive();
      if (body.status === "CANCELED") throw errors.agentCannotCancel();
      if (request.validationError) throw errors.malformedStatusDetails();
      await applyReport(ctx, row, body as ReportBody);
      reply.code(204).send();
    },
  );
}

async function applyReport(ctx: ServiceContext, row: BuildRow, report: ReportBody): Promise<void> {
  const details = parseObject(row.status_details);
  if (report.details) details.details = report.details;
  let progress: number | undefined;
  const reported = report["agent-progress"];
  if (reported) {
    details["agent-progress"] = { current: reported.current, total: reported.total };
    if (reported.total > 0)
      progress = Math.max(0, Math.min(100, Math.floor((reported.current * 100) / reported.total)));
  }
  const changes = {
    status_details: JSON.stringify(details),
    ...(progress !== undefined ? { progress } : {}),
    ...(report.steps
      ? {
          steps: JSON.stringify(
            report.steps.map((s) => ({
              name: s.name,
              state: s.state,
              bytes_done: s.bytes_done ?? null,
              bytes_total: s.bytes_total ?? null,
              started: s.started ?? null,
              finished: s.finished ?? null,
            })),
          ),
        }
      : {}),
    ...(report.log_tail ? { log_tail: JSON.stringify(report.log_tail.slice(-LOG_TAIL_LINES)) } : {}),
    ...(report.error ? { error: JSON.stringify(report.error) } : {}),
    ...(report.image_id ? { image_id: report.image_id } : {}),
    ...(report.image_location ? { image_location: report.image_location } : {}),
  };
  if (report.status === "CREATING") {
    if (!(await ctx.store.builds.applyReport(row.id, changes))) throw errors.buildNotActive();
    return;
  }
  const { status_details: _, error, ...extra } = changes;
  const ended = await endBuild(ctx, row.id, report.status as "COMPLETED" | "ERROR", "agent", {
    details: typeof details.details === "string" ? details.details : report.status,
    detailsExtra: details,
    extra,
    ...(error ? { error: JSON.parse(error) } : {}),
  });
  if (!ended) throw errors.buildNotActive();
}
