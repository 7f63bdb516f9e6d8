/** @module http — one HTTP core for every Synnefo client: timeouts, retries with backoff, fault parsing. */
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, type Dispatcher, request } from "undici";
import { parseFault, SynnefoError, type SynnefoService } from "./errors.ts";

export type Method = "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "PATCH";

export interface HttpClientOptions {
  /** Base URL of the service, e.g. `https://cyclades.example.org/compute/v2.0` (no trailing slash needed). */
  baseUrl: string;
  /** The user's token, sent as `X-Auth-Token`. Never logged, never put in an error. */
  token?: string;
  service: SynnefoService;
  /** Per-request timeout for headers and for each body chunk, in ms. Default 30 000. */
  timeoutMs?: number;
  /** How many times an idempotent request is sent again after a 5xx or no answer. Default 4. */
  retries?: number;
  /** First backoff delay in ms; doubles each try, with jitter. Default 250. */
  backoffMs?: number;
  dispatcher?: Dispatcher;
}

export interface RequestOptions {
  method: Method;
  /** Path below the base URL, already percent-encoded where needed. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string | undefined>;
  /** A JSON value (sent with `application/json`), raw bytes or text. */
  json?: unknown;
  body?: Buffer | Uint8Array | string;
  /** Statuses that count as success; anything else becomes a `SynnefoError`. Default: 2xx. */
  expect?: readonly number[];
  /** Send again after 5xx/no answer. Default: true for GET, HEAD, PUT, DELETE; false for POST/PATCH. */
  idempotent?: boolean;
  /** Override the client's retry count for this call. */
  retries?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text (`""` for HEAD and empty bodies). */
  text: string;
}

export interface StreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData["body"];
}

const sharedAgent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

/**
 * A small client bound to one service's base URL and one token.
 *
 * @example
 * const http = new HttpClient({ baseUrl: computeUrl, token, service: "compute" });
 * const res = await http.call({ method: "GET", path: "/flavors/detail" });
 */
export class HttpClient {
  readonly baseUrl: string;
  readonly service: SynnefoService;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #dispatcher: Dispatcher;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.service = options.service;
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retries = options.retries ?? 4;
    this.#backoffMs = options.backoffMs ?? 250;
    this.#dispatcher = options.dispatcher ?? sharedAgent;
  }

  /** A copy of this client for another base URL of the same service and token. */
  withBaseUrl(baseUrl: string): HttpClient {
    return new HttpClient({
      baseUrl,
      token: this.#token,
      service: this.service,
      timeoutMs: this.#timeoutMs,
      retries: this.#retries,
      backoffMs: this.#backoffMs,
      dispatcher: this.#dispatcher,
    });
  }

  /** Sends a request and reads the whole (small) answer as text. */
  async call(options: RequestOptions): Promise<HttpResponse> {
    const res = await this.#send(options);
    const text = await res.body.text();
    return { status: res.status, headers: res.headers, text };
  }

  /** Sends a request and parses the answer as JSON. */
  async json<T>(
    options: RequestOptions,
  ): Promise<{ status: number; headers: Record<string, string>; data: T }> {
    const res = await this.call(options);
    if (res.text.length === 0) return { status: res.status, headers: res.headers, data: undefined as T };
    try {
      return { status: res.status, headers: res.headers, data: JSON.parse(res.text) as T };
    } catch (cause) {
      throw new SynnefoError({
        status: res.status,
        code: "invalidResponse",
        message: `${this.service} answered with invalid JSON`,
        service: this.service,
        request: describe(options),
        cause,
      });
    }
  }

  /** Sends a request and hands back the body as a stream (the caller must consume or destroy it). */
  async stream(options: RequestOptions): Promise<StreamResponse> {
    return this.#send(options);
  }

  async #send(options: RequestOptions): Promise<StreamResponse> {
    const method = options.method;
    const idempotent = options.idempotent ?? (method !== "POST" && method !== "PATCH");
    const maxRetries = idempotent ? (options.retries ?? this.#retries) : 0;
    const url = this.#url(options);
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) headers["x-auth-token"] = this.#token;
    let body: Buffer | Uint8Array | string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    for (const [k, v] of Object.entries(options.headers ?? {}))
      if (v !== undefined) headers[k.toLowerCase()] = v;
    const expect = options.expect;
    for (let attempt = 0; ; attempt++) {
      let error: SynnefoError;
      try {
        const res = await request(url, {
          method,
          headers,
          body,
          dispatcher: this.#dispatcher,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
        const ok = expect ? expect.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
        if (ok) return { status: res.statusCode, headers: flatten(res.headers), body: res.body };
        const text = method === "HEAD" ? "" : await res.body.text().catch(() => "");
        error = parseFault(res.statusCode, text, this.service, describe(options));
      } catch (cause) {
        if (cause instanceof SynnefoError) throw cause;
        error = connectionError(cause, this.service, describe(options));
      }
      if (!error.retriable || attempt >= maxRetries) throw error;
      const delay = this.#backoffMs * 2 ** attempt;
      await sleep(delay / 2 + Math.random() * delay);
    }
  }

  #url(options: RequestOptions): string {
    let url = this.baseUrl + (options.path.startsWith("/") || options.path === "" ? "" : "/") + options.path;
    const query = options.query;
    if (query) {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === false) continue;
        // Synnefo uses bare flags such as `?hashmap` and `?update`.
        parts.push(
          v === true || v === ""
            ? encodeURIComponent(k)
            : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`,
        );
      }
      if (parts.length > 0) url += (url.includes("?") ? "&" : "?") + parts.join("&");
    }
    return url;
  }
}

function describe(options: RequestOptions): string {
  return `${options.method} ${options.path}`;
}

function connectionError(cause: unknown, service: SynnefoService, request: string): SynnefoError {
  const code = (cause as { code?: string } | null)?.code ?? "";
  const timeout = code.includes("TIMEOUT");
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new SynnefoError({
    status: 0,
    code: timeout ? "timeout" : "connectionError",
    message: timeout ? `${service} did not answer in time` : `cannot reach ${service}: ${reason}`,
    service,
    request,
    cause,
  });
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
