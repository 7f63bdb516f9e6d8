/** @module client — the ICaaS user API over HTTP: one method per call, errors as ApiError/NetworkError. */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Build, BuildRequest } from "@icaas/contract";
import { VERSION } from "@icaas/contract";
import { ApiError, isTransient, NetworkError } from "./errors.ts";

export interface ClientOptions {
  /** The API base, `<service>/icaas`. */
  api: string;
  token: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export interface ListQuery {
  status?: string;
  limit?: number;
  marker?: number;
}

export interface CreateResult {
  build: Build;
  /** The service answered with the build an earlier request with the same key created. */
  replayed: boolean;
  idempotencyKey: string;
}

/** A create is retried after a 429 or 503 only when the service asks to wait at most this long. */
const MAX_RETRY_AFTER_MS = 10_000;

/** Why a request got no answer, in words (undici puts the reason in `cause`). */
function reasonOf(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  const code = err?.cause?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name lookup failed",
    ECONNRESET: "connection reset",
    ETIMEDOUT: "connection timed out",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    UND_ERR_SOCKET: "connection closed before the answer",
    UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  };
  if (code) return `${words[code] ?? "network error"} (${code})`;
  return err?.cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/**
 * A client of the public ICaaS API. The token goes only into the `X-Auth-Token` header: never into a
 * URL, a message or an error. Redirects are not followed, so the header never reaches another host.
 *
 * @example
 * const client = new IcaasClient({ api: "http://127.0.0.1:8080/icaas", token });
 * const { build } = await client.createBuild({ name: "debian", src: "https://example.org/d.img" });
 */
export class IcaasClient {
  readonly api: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.api = options.api.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<{ status: number; headers: Headers; body: unknown }> {
    const url = `${this.api}${path}`;
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": `icaas-cli/${VERSION}`,
      "x-auth-token": this.#token,
      ...options.headers,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        redirect: "manual",
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new NetworkError(url, reasonOf(error, this.#timeoutMs));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new NetworkError(url, `the answer broke off: ${reasonOf(error, this.#timeoutMs)}`);
    }
    let body: unknown;
    let json = false;
    if (text !== "") {
      try {
        body = JSON.parse(text);
        json = true;
      } catch {
        body = undefined;
      }
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get("location") ?? "?";
      throw new ApiError(res.status, "redirected", `${url} redirects to ${location}`, {
        hint: "use the URL it redirects to as --url (the token is not sent after a redirect)",
      });
    }
    if (res.status >= 400) throw errorOf(url, res, body);
    if (text !== "" && !json)
      throw new ApiError(
        res.status,
        "unexpected_answer",
        `${url} answered HTTP ${res.status} but not with JSON`,
        {
          hint: "is --url the ICaaS service?",
        },
      );
    return { status: res.status, headers: res.headers, body };
  }

  /**
   * `POST /builds` with an `Idempotency-Key`. A lost answer, a 5xx or a 429 is retried (up to
   * `attempts` times in all) with the same key and body, so the service creates the build once.
   */
  async createBuild(
    request: BuildRequest,
    options: { idempotencyKey?: string; attempts?: number; retryDelayMs?: number; signal?: AbortSignal } = {},
  ): Promise<CreateResult> {
    const key = options.idempotencyKey ?? randomUUID();
    const attempts = Math.max(1, options.attempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.#request("POST", "/builds", {
          body: { build: request },
          headers: { "idempotency-key": key },
          signal: options.signal,
        });
        return {
          build: buildOf(res.body, "build"),
          replayed: res.headers.get("idempotent-replayed") === "true",
          idempotencyKey: key,
        };
      } catch (error) {
        if (attempt >= attempts || !isTransient(error)) throw error;
        const after = error instanceof ApiError && error.retryAfter ? error.retryAfter * 1000 : 0;
        // A long Retry-After is said, not slept through in silence.
        if (after > MAX_RETRY_AFTER_MS) throw error;
        await sleep(Math.max(after, (options.retryDelayMs ?? 500) * attempt), undefined, {
          signal: options.signal,
        });
      }
    }
  }

  /** `GET /builds?details=1`: one page of full builds (no `log_tail`), newest first. */
  async listBuilds(query: ListQuery = {}, signal?: AbortSignal): Promise<Build[]> {
    const params = new URLSearchParams({ details: "1" });
    if (query.status) params.set("status", query.status);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.marker !== undefined) params.set("marker", String(query.marker));
    const res = await this.#request("GET", `/builds?${params}`, { signal });
    const builds = (res.body as { builds?: unknown })?.builds;
    if (!Array.isArray(builds)) throw malformed(`${this.api}/builds`);
    return builds as Build[];
  }

  /** Every build, page after page (`limit` each, following `marker`). */
  async *allBuilds(
    query: { status?: string; pageSize?: number } = {},
    signal?: AbortSignal,
  ): AsyncGenerator<Build> {
    const limit = query.pageSize ?? 100;
    let marker: number | undefined;
    for (;;) {
      const page = await this.listBuilds({ status: query.status, limit, marker }, signal);
      yield* page;
      if (page.length < limit) return;
      marker = page[page.length - 1]!.id;
    }
  }

  /** `GET /builds/{id}`: the build with its `log_tail`. */
  async getBuild(id: number, signal?: AbortSignal): Promise<Build> {
    return buildOf((await this.#request("GET", `/builds/${id}`, { signal })).body, "build");
  }

  /** `PUT /builds/{id}` `{"action": "cancel"}`. */
  async cancelBuild(id: number): Promise<void> {
    await this.#request("PUT", `/builds/${id}`, { body: { action: "cancel" } });
  }

  /** `DELETE /builds/{id}`: a soft delete; the image and log objects stay in Pithos. */
  async deleteBuild(id: number): Promise<void> {
    await this.#request("DELETE", `/builds/${id}`);
  }
}

function malformed(url: string): ApiError {
  return new ApiError(200, "unexpected_answer", `${url} answered with JSON that is not an ICaaS answer`, {
    hint: "is --url the ICaaS service?",
  });
}

function buildOf(body: unknown, key: "build"): Build {
  const build = (body as Record<string, unknown> | undefined)?.[key] as Build | undefined;
  if (!build || typeof build !== "object" || typeof build.id !== "number") throw malformed("the service");
  return build;
}

/** An error answer: the API's `{message, status, code}`, or words for anything else. */
function errorOf(url: string, res: Response, body: unknown): ApiError {
  const retryAfter = Number(res.headers.get("retry-after")) || undefined;
  const e = body as { message?: unknown; code?: unknown } | undefined;
  if (e && typeof e.message === "string" && typeof e.code === "string") {
    const hint =
      res.status === 401
        ? "check the token (--token, ICAAS_TOKEN or the config file)"
        : e.code === "not_found"
          ? `${url} is not an ICaaS API path: is --url the service's base URL?`
          : undefined;
    return new ApiError(res.status, e.code, e.message, { retryAfter, hint });
  }
  return new ApiError(
    res.status,
    `http_${res.status}`,
    `${url} answered HTTP ${res.status} ${res.statusText}`.trim(),
    {
      retryAfter,
      hint: res.status === 404 ? "is --url the ICaaS service?" : undefined,
    },
  );
}
