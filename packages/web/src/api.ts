/** @module api — the only way the UI talks to the ICaaS service: typed builds, typed errors. */

import type {
  Build as ApiBuild,
  BuildStep as ApiBuildStep,
  BuildRequest,
  BuildStatus,
  StatusDetails,
} from "@icaas/contract";

/** A step as the page reads it: the contract's, with the numbers and times older services leave out optional. */
export type BuildStep = Pick<ApiBuildStep, "name" | "state"> & Partial<ApiBuildStep>;

/** The fields every build has, whichever service sent it. */
type BuildCore = "id" | "name" | "src" | "status" | "created" | "updated";

/** A build as the page reads it: the contract's `Build`, with what older services leave out optional. */
export type Build = Pick<ApiBuild, BuildCore> &
  Partial<Omit<ApiBuild, BuildCore | "steps">> & { steps?: BuildStep[] };

export interface BuildPage {
  builds: Build[];
  /** True when the page was full, so another one may follow. */
  more: boolean;
}

export interface UiConfig {
  authUrl: string | null;
  demo: boolean;
  demoTokenHint: string | null;
}

/** The fields of the create form an API error can be pinned to. */
export type FormField =
  | "name"
  | "src"
  | "description"
  | "project"
  | "imageContainer"
  | "imageObject"
  | "logContainer"
  | "logObject";

/** Every failure of a call: an HTTP error with the service's `{message, status, code}`, or no answer at all. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    /** HTTP status; 0 when the service could not be reached. */
    readonly status: number,
    readonly code: string,
    /** The form field the error is about, when the service's answer says so. */
    readonly field: FormField | null = null,
  ) {
    super(message);
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** Service messages quote the parameter they reject (`Parameter: 'src' is …`); map those names to fields. */
const FIELD_PATTERNS: [RegExp, FormField][] = [
  [/\bimage\.container\b|"container" field missing from parameter: "image"/i, "imageContainer"],
  [/\bimage\.object\b/i, "imageObject"],
  [/\blog\.container\b|"container" field missing from parameter: "log"/i, "logContainer"],
  [/\blog\.object\b/i, "logObject"],
  [/['"]src['"]|\bsrc\b|source url/i, "src"],
  [/['"]name['"]|\bname\b/i, "name"],
  [/['"]description['"]|\bdescription\b/i, "description"],
  [/['"]project['"]|\bproject\b/i, "project"],
];

/** Finds the form field an error body is about: an explicit `field`, else the code, else the message. */
export function fieldOfError(body: { message?: unknown; code?: unknown; field?: unknown }): FormField | null {
  const candidates = [body.field, body.code, body.message].filter((v): v is string => typeof v === "string");
  for (const text of candidates) {
    const normalized = text.replace(/_/g, ".");
    for (const [pattern, field] of FIELD_PATTERNS) {
      if (pattern.test(text) || pattern.test(normalized)) return field;
    }
  }
  return null;
}

/** Turns a non-2xx response into an ApiError, whatever its body looks like (JSON, HTML, empty). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let body: { message?: unknown; code?: unknown; field?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed as typeof body;
  } catch {
    // Not JSON: a proxy's HTML page, or nothing. Fall back to the status line below.
  }
  const message =
    typeof body.message === "string" && body.message.trim() !== ""
      ? body.message
      : defaultMessage(res.status, res.statusText);
  const code = typeof body.code === "string" ? body.code : `http_${res.status}`;
  return new ApiError(message, res.status, code, res.status === 400 ? fieldOfError(body) : null);
}

function defaultMessage(status: number, statusText: string): string {
  if (status >= 500)
    return `The service failed (${status}${statusText ? ` ${statusText}` : ""}). Try again shortly.`;
  return `The service refused the request (${status}${statusText ? ` ${statusText}` : ""}).`;
}

/** A short random key, so a double-submitted form creates one build (the service honours it). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface ApiClientOptions {
  /** Where the API lives; default `/icaas` on the page's own origin. */
  base?: string;
  token: string | null;
  /** Called on any 401, so the app can drop the token and show the login page. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export interface ListQuery {
  status?: BuildStatus | null;
  limit?: number;
  marker?: string | number | null;
}

/**
 * The service's user API.
 *
 * @example
 * const api = new ApiClient({ token });
 * const { builds } = await api.listBuilds({ status: "CREATING", limit: 20 });
 */
export class ApiClient {
  readonly #base: string;
  readonly #token: string | null;
  readonly #onUnauthorized: (() => void) | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.#base = options.base ?? "/icaas";
    this.#token = options.token;
    this.#onUnauthorized = options.onUnauthorized;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async config(signal?: AbortSignal): Promise<UiConfig> {
    const body = await this.#json<Partial<UiConfig>>("GET", "/config", { signal, auth: false });
    return {
      authUrl: typeof body.authUrl === "string" ? body.authUrl : null,
      demo: body.demo === true,
      demoTokenHint: typeof body.demoTokenHint === "string" ? body.demoTokenHint : null,
    };
  }

  /** Checks a token by listing one build with it: resolves when accepted, throws ApiError(401) when not. */
  async checkToken(token: string, signal?: AbortSignal): Promise<void> {
    await this.#request("GET", "/builds?limit=1", { signal, token, notifyUnauthorized: false });
  }

  async listBuilds(query: ListQuery = {}, signal?: AbortSignal): Promise<BuildPage> {
    const params = new URLSearchParams({ details: "1" });
    if (query.status) params.set("status", query.status);
    if (query.limit) params.set("limit", String(query.limit));
    if (query.marker !== undefined && query.marker !== null) params.set("marker", String(query.marker));
    const body = await this.#json<{ builds?: Build[] }>("GET", `/builds?${params}`, { signal });
    const builds = Array.isArray(body.builds) ? body.builds.map(normalizeBuild) : [];
    return { builds, more: query.limit !== undefined && builds.length >= query.limit };
  }

  async getBuild(id: string | number, signal?: AbortSignal): Promise<Build> {
    const body = await this.#json<{ build: Build }>("GET", `/builds/${encodeURIComponent(String(id))}`, {
      signal,
    });
    return normalizeBuild(body.build);
  }

  async createBuild(build: BuildRequest, idempotencyKey: string, signal?: AbortSignal): Promise<Build> {
    const body = await this.#json<{ build: Build }>("POST", "/builds", {
      signal,
      body: { build },
      headers: { "Idempotency-Key": idempotencyKey },
    });
    return normalizeBuild(body.build);
  }

  async cancelBuild(id: string | number): Promise<void> {
    await this.#request("PUT", `/builds/${encodeURIComponent(String(id))}`, { body: { action: "cancel" } });
  }

  async deleteBuild(id: string | number): Promise<void> {
    await this.#request("DELETE", `/builds/${encodeURIComponent(String(id))}`, {});
  }

  async #json<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const res = await this.#request(method, path, options);
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError("The service sent an answer the page cannot read.", res.status, "bad_response");
    }
  }

  async #request(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    const token = options.token ?? this.#token;
    if (options.auth !== false && token) headers["X-Auth-Token"] = token;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        cache: "no-store",
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(
        "Cannot reach the ICaaS service. Check your connection; retrying.",
        0,
        "unreachable",
      );
    }
    if (res.ok) return res;
    const error = await errorFromResponse(res);
    if (error.unauthorized && options.notifyUnauthorized !== false) this.#onUnauthorized?.();
    throw error;
  }
}

interface RequestOptions {
  signal?: AbortSignal | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** false: send no token (public endpoints). */
  auth?: boolean;
  /** A token other than the client's own (the login check). */
  token?: string;
  notifyUnauthorized?: boolean;
}

/** Fills what older services leave out, so components never guard against missing arrays. */
export function normalizeBuild(build: Build): Build {
  const raw: unknown = build.status_details;
  let details = build.status_details;
  // The original service sent status_details as a JSON string.
  if (typeof raw === "string") {
    try {
      details = JSON.parse(raw) as StatusDetails;
    } catch {
      details = { details: raw };
    }
  }
  return {
    ...build,
    status_details: details ?? {},
    steps: Array.isArray(build.steps) ? build.steps : [],
    log_tail: Array.isArray(build.log_tail) ? build.log_tail : [],
    error: build.error ?? null,
  };
}
