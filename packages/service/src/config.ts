/** @module config — the service's typed configuration: a JSON file (`ICAAS_CONFIG`) plus `ICAAS_*` env. */
import { readFileSync } from "node:fs";
import { parseAllowRule } from "@icaas/source-policy";
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const Network = Type.Union([
  Type.Object({ uuid: Type.String({ minLength: 1 }), fixed_ip: Type.Optional(Type.String()) }),
  Type.Object({ port: Type.String({ minLength: 1 }) }),
]);

const Seconds = (def: number, description: string) =>
  Type.Number({ minimum: 0.001, default: def, description });
const Millis = (def: number, description: string) => Type.Integer({ minimum: 1, default: def, description });

/** Every key, its type, default and meaning; the env name of `fooBar` is `ICAAS_FOO_BAR`. */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: "127.0.0.1", description: "Address to listen on." }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: "Port; 0 picks one." }),
    publicUrl: Type.Optional(
      Type.String({
        pattern: "^https?://",
        description:
          "The URL agents and users reach the service at, without /icaas (ENDPOINT = publicUrl + /icaas). Default http://host:port.",
      }),
    ),
    authUrl: Type.String({
      pattern: "^https?://",
      description: "Astakos identity endpoint, e.g. https://accounts.example.org/identity/v2.0.",
    }),
    agentUrl: Type.Optional(
      Type.String({
        pattern: "^https?://",
        description:
          "The URL agents' VMs reach the service at, without /icaas, written into their manifests. Default publicUrl.",
      }),
    ),
    agentAuthUrl: Type.Optional(
      Type.String({
        pattern: "^https?://",
        description:
          "The Astakos identity endpoint as agents' VMs reach it, written into their manifests. Default authUrl.",
      }),
    ),
    computeUrl: Type.Optional(
      Type.String({ pattern: "^https?://", description: "Cyclades compute URL; default from the catalog." }),
    ),
    dataDir: Type.String({
      minLength: 1,
      default: "/var/lib/icaas",
      description: "Where the SQLite database and the generated encryption key live.",
    }),
    databaseUrl: Type.Optional(
      Type.String({
        minLength: 1,
        description: "postgres://user:pass@host/db, or sqlite:<path>; default SQLite in dataDir.",
      }),
    ),
    encryptionKey: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Base64 of 32 bytes encrypting user tokens at rest; default generated into dataDir/secret.key. Every instance on one database needs the same key.",
      }),
    ),
    agentImageId: Type.String({ minLength: 1, description: "Cyclades image the agent VM boots." }),
    agentFlavorId: Type.String({ minLength: 1, description: "Cyclades flavor of the agent VM." }),
    agentNetworks: Type.Optional(
      Type.Array(Network, { description: "Networks of the agent VM when the build names none." }),
    ),
    agentProject: Type.Optional(
      Type.String({ description: "Project charged for the agent VM when the build names none." }),
    ),
    insecure: Type.Boolean({ default: false, description: "Lets the agent skip TLS checks to the service." }),
    manifestTimeoutSeconds: Seconds(
      1200,
      "A build whose manifest is not fetched this long after creation ends in ERROR.",
    ),
    agentSilenceSeconds: Seconds(600, "A build whose agent sent nothing for this long ends in ERROR."),
    buildTimeoutSeconds: Seconds(7200, "A build running longer ends in ERROR."),
    progressHeuristic: Type.Number({ minimum: 0, default: 6.75, description: "Sent to the agent." }),
    progressIntervalSeconds: Type.Number({ minimum: 0.1, default: 5, description: "Agent report period." }),
    maxDownloadBytes: Type.Integer({
      minimum: 1,
      default: 21474836480,
      description: "Largest source the agent downloads (sent in the manifest).",
    }),
    minDownloadBytesPerSecond: Type.Integer({
      minimum: 0,
      default: 32768,
      description:
        "A source connection averaging less over a window is dropped and resumed (3 times in a row at most, then the build fails download_too_slow); sent in the manifest. 0 = off.",
    }),
    downloadWindowSeconds: Seconds(60, "The window of minDownloadBytesPerSecond."),
    sourceAllowPrivate: Type.Boolean({
      default: true,
      description:
        "Image sources may point at private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).",
    }),
    sourceAllowList: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "Sources allowed whatever their address: host names, addresses or CIDRs, each with an optional :port (on-premises mirrors). Env: comma-separated or a JSON array.",
    }),
    sourceDenyList: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        "Sources refused even when allow-listed or public, in the same form as sourceAllowList (e.g. the cloud's own API hosts). The service's own endpoints (publicUrl, agentUrl) are always refused.",
    }),
    authCacheSeconds: Type.Number({
      minimum: 0,
      default: 60,
      description: "How long a validated token is trusted.",
    }),
    authTimeoutMs: Millis(5000, "Timeout of one Astakos call."),
    cloudTimeoutMs: Millis(30000, "Timeout of one Cyclades call."),
    jobsEnabled: Type.Boolean({
      default: true,
      description: "Run the job runner and sweeper in this instance.",
    }),
    jobConcurrency: Type.Integer({
      minimum: 1,
      default: 8,
      description: "Jobs run at once by this instance.",
    }),
    jobPollMs: Millis(1000, "How often the runner looks for due jobs."),
    jobLeaseMs: Millis(60000, "A claimed job returns to the queue if its runner is silent this long."),
    jobBackoffMs: Millis(1000, "First retry delay; doubles per attempt."),
    jobMaxBackoffMs: Millis(300000, "Longest retry delay."),
    jobMaxAttempts: Type.Integer({
      minimum: 1,
      default: 8,
      description: "Tries to create a VM before ERROR.",
    }),
    sweeperIntervalMs: Millis(30000, "How often timeouts and leftover VMs are checked."),
    rateLimitPerMinute: Type.Integer({
      minimum: 0,
      default: 600,
      description: "Requests per user; 0 = off.",
    }),
    createRateLimitPerMinute: Type.Integer({
      minimum: 0,
      default: 30,
      description: "Builds created per user; 0 = off.",
    }),
    maxActiveBuildsPerUser: Type.Integer({
      minimum: 0,
      default: 5,
      description: "CREATING builds per user; 0 = off.",
    }),
    listCacheMegabytes: Type.Number({
      minimum: 0,
      default: 64,
      description: "Memory for rendered list pages, revalidated on every request; 0 = off.",
    }),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 262144, description: "Largest request body." }),
    webDir: Type.Optional(
      Type.String({ description: "The built web UI; default the @icaas/web dist folder." }),
    ),
    logLevel: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
      { default: "info" },
    ),
    trustProxy: Type.Boolean({ default: false, description: "Trust X-Forwarded-* from a reverse proxy." }),
    demo: Type.Boolean({ default: false, description: "Says so in GET /icaas/config." }),
    demoTokenHint: Type.Optional(Type.String({ description: "Where a demo user finds the token." })),
  },
  { additionalProperties: false },
);

export type ServiceConfig = Static<typeof ConfigSchema>;
/** What a caller may pass: anything with a default can be left out. */
export type ConfigInput = Partial<ServiceConfig> &
  Pick<ServiceConfig, "authUrl" | "agentImageId" | "agentFlavorId">;

/** A configuration problem, with every bad key listed in a message a person can act on. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const KEYS = Object.keys(ConfigSchema.properties) as (keyof ServiceConfig)[];

/** `manifestTimeoutSeconds` → `ICAAS_MANIFEST_TIMEOUT_SECONDS`. */
export function envName(key: string): string {
  return `ICAAS_${key.replace(/([A-Z])/g, "_$1").toUpperCase()}`;
}

/** Env names the original Flask service read, mapped onto ours (minutes become seconds). */
const ORIGINAL_ENV: Record<string, { key: keyof ServiceConfig; convert?: (v: string) => unknown }> = {
  ICAAS_ENDPOINT: { key: "publicUrl", convert: (v) => v.replace(/\/icaas\/?$/, "") },
  ICAAS_AGENT_IMAGE_FLAVOR_ID: { key: "agentFlavorId" },
  ICAAS_MANIFEST_TIMEOUT: { key: "manifestTimeoutSeconds", convert: (v) => Number(v) * 60 },
  ICAAS_AGENT_TIMEOUT: { key: "buildTimeoutSeconds", convert: (v) => Number(v) * 60 },
  ICAAS_PROGRESS_HEURISTIC: { key: "progressHeuristic" },
  ICAAS_PROGRESS_INTERVAL: { key: "progressIntervalSeconds" },
};

/** Env vars with the ICAAS_ prefix that belong to other parts (the demo, the CLI, the agent). */
const FOREIGN_ENV = new Set([
  "ICAAS_CONFIG",
  "ICAAS_DEMO_DATA",
  "ICAAS_DEMO_CLOUD_PORT",
  "ICAAS_URL",
  "ICAAS_TOKEN",
]);

function convertEnv(key: keyof ServiceConfig, raw: string): unknown {
  const type = (ConfigSchema.properties[key] as TSchema).type;
  if (type === "integer" || type === "number") {
    const n = Number(raw);
    // Not a number: keep the text, so the error shows what was given.
    return raw.trim() === "" || Number.isNaN(n) ? raw : n;
  }
  if (type === "boolean") {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off", ""].includes(v)) return false;
    return raw;
  }
  // A list of strings may also be given comma-separated: ICAAS_SOURCE_ALLOW_LIST=mirror.lan,10.0.0.0/8
  const items = (ConfigSchema.properties[key] as TSchema).items as TSchema | undefined;
  if (type === "array" && items?.type === "string" && !raw.trim().startsWith("[")) {
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (type === "array" || type === "object") {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * Turns raw values (file, env, code) into a checked `ServiceConfig`, or throws a `ConfigError` naming
 * every bad key with its env name and what was expected.
 *
 * @example
 * const config = resolveConfig({ authUrl, agentImageId: "img", agentFlavorId: "1", port: 0 });
 */
export function resolveConfig(
  input: Record<string, unknown>,
  origin: Record<string, string> = {},
): ServiceConfig {
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key as keyof ServiceConfig)) {
      const guess = KEYS.find((k) => k.toLowerCase().startsWith(key.toLowerCase().slice(0, 6)));
      problems.push(
        `unknown key '${key}'${origin[key] ? ` (from ${origin[key]})` : ""}${guess ? `; did you mean '${guess}'?` : ""}`,
      );
    }
  }
  const cleaned: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input))
    if (v !== undefined && KEYS.includes(k as keyof ServiceConfig)) cleaned[k] = v;
  const withDefaults = Value.Default(ConfigSchema, cleaned) as Record<string, unknown>;
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = error.path.split("/")[1] ?? "";
    const where = origin[key] ?? `config key '${key}' / env ${envName(key)}`;
    const value = error.value === undefined ? "nothing" : JSON.stringify(error.value);
    const expected = describe(ConfigSchema.properties[key as keyof ServiceConfig], error.message);
    if (error.value === undefined && error.path.split("/").length === 2) {
      problems.push(`${key} is required (set ${envName(key)} or '${key}' in the config file)`);
    } else {
      problems.push(
        `${key}${error.path.split("/").length > 2 ? error.path.slice(key.length + 1) : ""}: ${expected}, got ${value} (from ${where})`,
      );
    }
  }
  problems.push(...listProblems("sourceAllowList", withDefaults.sourceAllowList, origin.sourceAllowList));
  problems.push(...listProblems("sourceDenyList", withDefaults.sourceDenyList, origin.sourceDenyList));
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return withDefaults as ServiceConfig;
}

/** The schema sees strings; whether each is a host, address or network is the policy's to say. */
function listProblems(
  key: "sourceAllowList" | "sourceDenyList",
  list: unknown,
  origin: string | undefined,
): string[] {
  if (!Array.isArray(list)) return [];
  const where = origin ?? `config key '${key}' / env ${envName(key)}`;
  const problems: string[] = [];
  for (const entry of list) {
    if (typeof entry !== "string") continue;
    try {
      parseAllowRule(entry);
    } catch (error) {
      problems.push(`${key}: ${(error as Error).message} (from ${where})`);
    }
  }
  return problems;
}

function describe(schema: TSchema | undefined, fallback: string): string {
  if (!schema) return fallback;
  if (schema.type === "integer") {
    const range = schema.minimum !== undefined ? ` ≥ ${schema.minimum}` : "";
    return `expected an integer${range}${schema.maximum !== undefined ? ` and ≤ ${schema.maximum}` : ""}`;
  }
  if (schema.type === "number")
    return `expected a number${schema.minimum !== undefined ? ` ≥ ${schema.minimum}` : ""}`;
  if (schema.type === "boolean") return "expected true or false";
  if (schema.type === "string" && schema.pattern === "^https?://") return "expected an http(s) URL";
  if (schema.anyOf?.every((s: TSchema) => s.const !== undefined))
    return `expected one of ${schema.anyOf.map((s: TSchema) => s.const).join(", ")}`;
  return fallback.toLowerCase().startsWith("expected") ? fallback : `expected ${fallback.toLowerCase()}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and env (tests, the demo). */
  overrides?: Record<string, unknown>;
}

/**
 * Reads `ICAAS_CONFIG` (a JSON file) if set, then `ICAAS_*` env vars, then `overrides`; validates.
 * Returns the config and warnings (unknown `ICAAS_*` variables, which are ignored).
 */
export function loadConfig(options: LoadOptions = {}): { config: ServiceConfig; warnings: string[] } {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const warnings: string[] = [];
  const file = env.ICAAS_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
      throw new ConfigError([`ICAAS_CONFIG=${file}: cannot read it as JSON (${reason})`]);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      throw new ConfigError([`ICAAS_CONFIG=${file}: expected a JSON object`]);
    for (const [k, v] of Object.entries(parsed)) {
      raw[k] = v;
      origin[k] = `${file}`;
    }
  }
  const byEnv = new Map(KEYS.map((k) => [envName(k), k]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("ICAAS_") || value === undefined || FOREIGN_ENV.has(name)) continue;
    const key = byEnv.get(name);
    const alias = ORIGINAL_ENV[name];
    if (key) {
      raw[key] = convertEnv(key, value);
      origin[key] = `env ${name}`;
    } else if (alias) {
      if (raw[alias.key] !== undefined && origin[alias.key]?.startsWith("env ")) continue;
      raw[alias.key] = alias.convert ? alias.convert(value) : convertEnv(alias.key, value);
      origin[alias.key] = `env ${name}`;
    } else {
      warnings.push(`ignoring unknown environment variable ${name}`);
    }
  }
  for (const [k, v] of Object.entries(options.overrides ?? {})) {
    raw[k] = v;
    origin[k] = "overrides";
  }
  return { config: resolveConfig(raw, origin), warnings };
}

/** The base of the URLs written for agents (their manifest's URL, status reports): `agentUrl` + `/icaas`, else `endpoint`. */
export function agentEndpointOf(config: ServiceConfig, endpoint: string): string {
  return config.agentUrl ? `${config.agentUrl.replace(/\/+$/, "")}/icaas` : endpoint;
}

/** The base of every API URL handed out: the public URL + `/icaas`. */
export function endpointOf(config: ServiceConfig): string {
  const base =
    config.publicUrl ??
    `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  return `${base.replace(/\/+$/, "")}/icaas`;
}
