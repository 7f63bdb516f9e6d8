/** @module routes/builds — the user API: create, list, show, cancel and delete builds. */
import { type BuildStatus, RULES } from "@icaas/contract";
import type { FastifyInstance, FastifyRequest, FastifySchemaValidationError } from "fastify";
import { createBuild } from "../builds/create-build.ts";
import { endBuild } from "../builds/end-build.ts";
import { buildJsonText, buildSummaryText } from "../builds/view.ts";
import type { ServiceContext } from "../context.ts";
import { errors } from "../errors.ts";
import { errorPath, genericValidationError } from "../http/error-handler.ts";
import {
  ActionBody,
  BuildEnvelope,
  BuildList,
  CreateBuildBody,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  ListQuery,
} from "../http/schemas.ts";

/**
 * Build answers are rendered to JSON text directly (stored JSON columns are embedded, not parsed and
 * serialised again); the response schemas still describe them in the OpenAPI spec.
 */
const JSON_TYPE = "application/json; charset=utf-8";

const AUTH_HEADER = {
  type: "object",
  properties: { "x-auth-token": { type: "string", description: "The user's Synnefo token." } },
} as const;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Words for the fields whose schema is a pattern (Ajv would quote the regular expression). */
const PATTERN_HINTS: Record<string, string> = {
  "build.src": RULES.src,
  "build.image.container": RULES.container,
  "build.log.container": RULES.container,
  "build.image.object": RULES.object,
  "build.log.object": RULES.object,
  "build.checksum": RULES.checksum,
};

/** The original's messages for a bad create body, in its order of checks. */
function createValidationErrors(validation: FastifySchemaValidationError[]) {
  const priority = (e: FastifySchemaValidationError) => {
    const path = errorPath(e);
    if (path === "build.name" || path === "build.src") return 0;
    if (/^build\.(image|log)$/.test(path)) return 1;
    if (/^build\.(image|log)\.(container|object)$/.test(path)) return 2;
    return 3;
  };
  const first = [...validation].sort((a, b) => priority(a) - priority(b))[0];
  if (!first) return undefined;
  const path = errorPath(first).split(".");
  const [, field, sub] = path;
  if (path.length === 1 && path[0] === "build") return errors.buildMissing();
  if (
    (field === "name" || field === "src") &&
    (first.keyword === "required" || first.keyword === "minLength")
  )
    return errors.parameterMissing(field);
  if ((field === "image" || field === "log") && sub === undefined && first.keyword === "type")
    return errors.notADictionary(field);
  if (
    (field === "image" || field === "log") &&
    (sub === "container" || sub === "object") &&
    first.keyword === "minLength"
  )
    return errors.locationFieldMissing(sub, field);
  if (first.keyword === "pattern" && PATTERN_HINTS[errorPath(first)])
    return errors.invalidParameter(errorPath(first), PATTERN_HINTS[errorPath(first)]!);
  return genericValidationError([first], "body");
}

function listValidationErrors(validation: FastifySchemaValidationError[]) {
  const first = validation[0];
  switch (first ? errorPath(first) : "") {
    case "status":
      return errors.invalidStatusFilter();
    case "details":
      return errors.invalidDetails();
    case "limit":
      return errors.invalidLimit();
    case "marker":
      return errors.invalidMarker();
    default:
      return undefined;
  }
}

/** Non-numeric ids are "not found", as the original's `<int:id>` routes were. */
const idNotFound = (validation: FastifySchemaValidationError[], context: string | undefined) =>
  context === "params" || validation.some((e) => e.instancePath.startsWith("/id"))
    ? errors.buildNotFound()
    : undefined;

/** Registers the user routes; every one needs `X-Auth-Token`. */
export async function buildRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  app.decorateRequest("user", null);
  app.decorateRequest("userToken", null);
  app.addHook("onRequest", async (request) => {
    const token = header(request, "x-auth-token");
    const user = await ctx.auth.authenticate(token);
    ctx.requestLimiter.take(user.uuid);
    request.user = user;
    request.userToken = token ?? null;
  });

  app.post(
    "/builds",
    {
      schema: {
        summary: "Create a build",
        description:
          "Only `name` and `src` are required. Replays with the same `Idempotency-Key` return the same build.",
        tags: ["builds"],
        headers: {
          ...AUTH_HEADER,
          properties: { ...AUTH_HEADER.properties, ...IdempotencyHeaders.properties },
        },
        body: CreateBuildBody,
        response: { 202: BuildEnvelope, ...errorResponses(400, 401, 403, 422, 429, 503) },
      },
      config: { validationErrors: createValidationErrors },
      // The original's first two checks look at the raw body, before the schema's field checks.
      preValidation: async (request) => {
        const body = request.body as Record<string, unknown> | undefined;
        if (body === null || typeof body !== "object" || Array.isArray(body) || !("build" in body))
          throw errors.buildMissing();
        const build = body.build;
        if (
          build === null ||
          typeof build !== "object" ||
          Array.isArray(build) ||
          Object.keys(build).length === 0
        )
          throw errors.buildFieldsMissing();
      },
    },
    async (request, reply) => {
      const { build, replayed } = await createBuild(ctx, {
        user: request.user!,
        userToken: request.userToken!,
        input: (request.body as CreateBuildBody).build,
        idempotencyKey: header(request, "idempotency-key"),
      });
      if (replayed) reply.header("idempotent-replayed", "true");
      reply.code(202).type(JSON_TYPE);
      return `{"build":${buildJsonText(build, ctx.endpoint)}}`;
    },
  );

  app.get(
    "/builds",
    {
      schema: {
        summary: "List your builds",
        description:
          "Newest first. `details=1` gives full builds; `limit` and `marker` (the last id seen) page.",
        tags: ["builds"],
        headers: AUTH_HEADER,
        querystring: ListQuery,
        response: { 200: BuildList, ...errorResponses(400, 401, 429, 503) },
      },
      config: { validationErrors: listValidationErrors },
    },
    async (request, reply) => {
      const query = request.query as { status?: string; details?: string; limit?: number; marker?: number };
      const details = query.details === "1";
      const uuid = request.user!.uuid;
      const status = query.status?.toUpperCase() as BuildStatus | undefined;
      reply.type(JSON_TYPE);
      // Read before the query: a page is never cached under a version newer than its content.
      const version = ctx.pages.enabled ? await ctx.store.builds.buildsVersion(uuid) : undefined;
      const key = `${uuid}|${status ?? ""}|${query.limit ?? ""}|${query.marker ?? ""}|${details ? 1 : 0}`;
      if (version !== undefined) {
        const cached = ctx.pages.get(key, version);
        if (cached !== undefined) return cached;
      }
      const rows = await ctx.store.builds.list(uuid, {
        status,
        limit: query.limit,
        marker: query.marker,
        details,
      });
      const items = details
        ? rows.map((r) => buildJsonText(r as Parameters<typeof buildJsonText>[0], ctx.endpoint))
        : rows.map((r) => buildSummaryText(r, ctx.endpoint));
      const body = `{"builds":[${items.join(",")}]}`;
      if (version !== undefined) ctx.pages.set(key, version, body);
      return body;
    },
  );

  app.get(
    "/builds/:id",
    {
      schema: {
        summary: "Show a build",
        tags: ["builds"],
        headers: AUTH_HEADER,
        params: IdParams,
        response: { 200: BuildEnvelope, ...errorResponses(401, 404, 429, 503) },
      },
      config: { validationErrors: idNotFound },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const row = await ctx.store.builds.findOwned(id, request.user!.uuid);
      if (!row) throw errors.buildNotFound();
      reply.type(JSON_TYPE);
      return `{"build":${buildJsonText(row, ctx.endpoint)}}`;
    },
  );

  app.put(
    "/builds/:id",
    {
      schema: {
        summary: "Cancel a build",
        description: 'Body `{"action": "cancel"}`. The agent VM is destroyed.',
        tags: ["builds"],
        headers: AUTH_HEADER,
        params: IdParams,
        body: ActionBody,
        response: {
          204: { type: "null", description: "Canceled." },
          ...errorResponses(400, 401, 403, 404, 429, 503),
        },
      },
      config: { validationErrors: idNotFound },
      // The build is looked up before the body is judged, as in the original (404 before 400).
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError?.validationContext === "params") throw errors.buildNotFound();
      const { id } = request.params as { id: number };
      const owned = await ctx.store.builds.findOwned(id, request.user!.uuid);
      if (!owned) throw errors.buildNotFound();
      const body = request.body as Record<string, unknown> | undefined;
      if (
        body === undefined ||
        body === null ||
        typeof body !== "object" ||
        !("action" in body) ||
        body.action === ""
      )
        throw errors.actionMissing();
      if (request.validationError) throw errors.invalidAction();
      const canceled = await endBuild(ctx, id, "CANCELED", "user", { details: "Canceled by the user" });
      if (!canceled) throw errors.buildNotActive();
      reply.code(204).send();
    },
  );

  app.delete(
    "/builds/:id",
    {
      schema: {
        summary: "Delete a build",
        description: "Soft delete: the build disappears, its VM is destroyed, its Pithos objects are kept.",
        tags: ["builds"],
        headers: AUTH_HEADER,
        params: IdParams,
        response: { 204: { type: "null", description: "Deleted." }, ...errorResponses(401, 404, 429, 503) },
      },
      config: { validationErrors: idNotFound },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      if (!(await ctx.store.builds.softDelete(id, request.user!.uuid))) throw errors.buildNotFound();
      ctx.wakeJobs();
      reply.code(204).send();
    },
  );
}
