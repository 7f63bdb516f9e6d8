/** @module http/schemas — the API's shapes, once: they validate requests, serialize answers and make the OpenAPI spec. */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { SRC_MAX_LENGTH } from "../builds/validate-src.ts";

/** Build ids are 32-bit in PostgreSQL (serial); larger numbers are simply not found. */
const MAX_ID = 2_147_483_647;

/** A value or null, in the OpenAPI 3.0 spelling fast-json-stringify understands. */
const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });

/** A pattern matching any capitalisation of the given words (the original compared case-insensitively). */
export function anyCase(...words: string[]): string {
  const letters = (w: string) =>
    [...w]
      .map((c) => (c.toLowerCase() !== c.toUpperCase() ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c))
      .join("");
  return `^(${words.map(letters).join("|")})$`;
}

export const ErrorBody = Type.Object(
  {
    message: Type.String({ description: "What went wrong, for people (the original ICaaS wording)." }),
    status: Type.Integer({ description: "The HTTP status, repeated." }),
    code: Type.String({ description: "A stable snake_case code, for programs." }),
  },
  { $id: "Error" },
);

const LocationIn = (what: string) =>
  Type.Object(
    {
      container: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 256,
          // A container is one URL path segment: `.`/`..` would be collapsed and `/` would split it.
          pattern: "^(?!\\.\\.?$)[^/]+$",
        }),
      ),
      object: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 1024,
          // URL parsing collapses `.`/`..` segments (even escaped), so such a name would be stored
          // under another one; a leading `/` would make an empty segment.
          pattern: "^(?!/)(?!(?:.*/)?\\.\\.?(?:/|$)).+$",
        }),
      ),
      account: Type.Optional(Type.String({ maxLength: 256 })),
    },
    { description: `Where the ${what} goes in Pithos; missing fields take defaults.` },
  );

export const NetworkSchema = Type.Union([
  Type.Object({ uuid: Type.String({ minLength: 1 }), fixed_ip: Type.Optional(Type.String()) }),
  Type.Object({ port: Type.String({ minLength: 1 }) }),
]);

export const CreateBuildBody = Type.Object({
  build: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 256, description: "The image's name in Plankton." }),
    src: Type.String({
      minLength: 1,
      maxLength: SRC_MAX_LENGTH,
      pattern: "^[hH][tT][tT][pP][sS]?://",
      description: "The source image URL (http or https).",
    }),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    public: Type.Optional(Type.Boolean({ description: "Register the image as public." })),
    project: Type.Optional(Type.String({ minLength: 1, description: "Project charged for the agent VM." })),
    networks: Type.Optional(Type.Array(NetworkSchema, { maxItems: 16 })),
    image: Type.Optional(LocationIn("image")),
    log: Type.Optional(LocationIn("build log")),
    checksum: Type.Optional(
      Type.String({
        // The digest length must fit the algorithm, as the agent checks: a wrong one is refused here,
        // before the user pays for a VM that is certain to fail.
        pattern:
          "^(md5:[0-9a-fA-F]{32}|sha1:[0-9a-fA-F]{40}|sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})$",
        description: "Expected checksum of the downloaded source, e.g. sha256:<hex>.",
      }),
    ),
  }),
});
export type CreateBuildBody = Static<typeof CreateBuildBody>;

export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: "Replays of one create return the same build.",
    }),
  ),
});

const Location = Type.Object(
  { container: Type.String(), object: Type.String(), account: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

const Step = Type.Object({
  name: Type.String(),
  state: Type.String(),
  bytes_done: Nullable(Type.Number()),
  bytes_total: Nullable(Type.Number()),
  started: Nullable(Type.String()),
  finished: Nullable(Type.String()),
});

const BuildErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  step: Type.Optional(Type.String()),
  hint: Type.Optional(Type.String()),
});

/** A build. In lists without `details=1` only `id`, `name`, `status` and `links` are present. */
export const BuildSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    links: Type.Array(Type.Object({ href: Type.String(), rel: Type.String() })),
    status: Type.String({ enum: ["CREATING", "COMPLETED", "ERROR", "CANCELED"] }),
    src: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    public: Type.Optional(Type.Boolean()),
    status_details: Type.Optional(
      Type.Object(
        {
          details: Type.Optional(Type.String()),
          "agent-progress": Type.Optional(Type.Object({ current: Type.Number(), total: Type.Number() })),
        },
        { additionalProperties: true, description: "An object (the original sent a JSON string)." },
      ),
    ),
    image: Type.Optional(Location),
    log: Type.Optional(Location),
    project: Type.Optional(Nullable(Type.String())),
    networks: Type.Optional(Nullable(Type.Array(Type.Object({}, { additionalProperties: true })))),
    checksum: Type.Optional(Nullable(Type.String())),
    created: Type.Optional(Type.String({ format: "date-time" })),
    updated: Type.Optional(Type.String({ format: "date-time" })),
    progress: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    steps: Type.Optional(Type.Array(Step)),
    error: Type.Optional(Nullable(BuildErrorSchema)),
    image_id: Type.Optional(Nullable(Type.String())),
    image_location: Type.Optional(Nullable(Type.String())),
    log_tail: Type.Optional(Type.Array(Type.String())),
  },
  { $id: "Build" },
);

export const BuildEnvelope = Type.Object({ build: Type.Ref("Build") });
export const BuildList = Type.Object({ builds: Type.Array(Type.Ref("Build")) });

export const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ pattern: anyCase("CREATING", "ERROR", "COMPLETED", "CANCELED") })),
  details: Type.Optional(Type.String({ enum: ["0", "1"] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  marker: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_ID, description: "The last id of the previous page." }),
  ),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 0, maximum: MAX_ID }) });

export const ActionBody = Type.Object({
  action: Type.String({ pattern: anyCase("cancel"), description: "Only `cancel` (any case)." }),
});

export const ManifestParams = Type.Object({
  id: Type.Integer({ minimum: 0, maximum: MAX_ID }),
  nonce: Type.String({ minLength: 1, maxLength: 128 }),
});

export const STEP_STATES = ["pending", "running", "done", "failed", "skipped"] as const;

export const ReportBody = Type.Object({
  status: Type.String({ enum: ["CREATING", "COMPLETED", "ERROR", "CANCELED"] }),
  details: Type.Optional(Type.String({ maxLength: 4096 })),
  "agent-progress": Type.Optional(
    Type.Object({ current: Type.Number({ minimum: 0 }), total: Type.Number({ minimum: 0 }) }),
  ),
  steps: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 64 }),
          state: Type.String({ enum: [...STEP_STATES] }),
          bytes_done: Type.Optional(Nullable(Type.Number({ minimum: 0 }))),
          bytes_total: Type.Optional(Nullable(Type.Number({ minimum: 0 }))),
          started: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
          finished: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
        },
        { additionalProperties: false },
      ),
      { maxItems: 32 },
    ),
  ),
  log_tail: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 500 })),
  error: Type.Optional(
    Type.Object(
      {
        code: Type.String({ minLength: 1, maxLength: 64 }),
        message: Type.String({ maxLength: 4096 }),
        step: Type.Optional(Type.String({ maxLength: 64 })),
        hint: Type.Optional(Type.String({ maxLength: 4096 })),
      },
      { additionalProperties: false },
    ),
  ),
  image_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  image_location: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
});
export type ReportBody = Static<typeof ReportBody>;

export const AgentTokenHeaders = Type.Object({
  "x-icaas-token": Type.Optional(Type.String({ description: "The agent token from the manifest." })),
});

export const ManifestSchema = Type.Object({
  manifest: Type.Object({
    progress: Type.Object({ heuristic: Type.Number(), interval: Type.Number() }),
    image: Type.Object({
      src: Type.String(),
      name: Type.String(),
      container: Type.String(),
      object: Type.String(),
      public: Type.Optional(Type.String()),
      description: Type.Optional(Type.String()),
      checksum: Type.Optional(Type.String()),
      account: Type.Optional(Type.String()),
    }),
    service: Type.Object({ status: Type.String(), token: Type.String(), insecure: Type.String() }),
    synnefo: Type.Object({ url: Type.String(), token: Type.String() }),
    log: Type.Object({
      container: Type.String(),
      object: Type.String(),
      account: Type.Optional(Type.String()),
    }),
    source: Type.Optional(
      Type.Object({
        allow_private: Type.String({ description: "True or False: private addresses may be fetched." }),
        allow: Type.String({ description: "Comma-separated allow-list: hosts, addresses, CIDRs, :port." }),
        deny: Type.Optional(
          Type.String({
            description:
              "Comma-separated deny-list, same form; it wins over the allow-list. Holds the service's own endpoints.",
          }),
        ),
      }),
    ),
    limits: Type.Optional(
      Type.Object({
        max_download_bytes: Type.Optional(Type.Number()),
        build_timeout_seconds: Type.Optional(Type.Number()),
        min_bytes_per_second: Type.Optional(Type.Number()),
        throughput_window_seconds: Type.Optional(Type.Number()),
      }),
    ),
  }),
});
export type Manifest = Static<typeof ManifestSchema>;

export const HealthSchema = Type.Object({
  status: Type.String({ enum: ["ok", "unavailable"] }),
  checks: Type.Object({ database: Type.String() }),
  version: Type.String(),
  uptime_seconds: Type.Number(),
});

export const PublicConfigSchema = Type.Object({
  authUrl: Type.String(),
  demo: Type.Boolean(),
  demoTokenHint: Type.Optional(Type.String()),
});

/** The usual error answers of a route, for the spec. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref("Error")]));
}
