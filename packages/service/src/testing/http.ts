/** @module testing/http — a test's HTTP call (any answer parsed) and polling until something holds. */
import { setTimeout as sleep } from "node:timers/promises";

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON, or undefined for an empty body. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field.
  body: any;
}

/** Calls the service (or anything) over real HTTP. */
export async function call(
  url: string,
  options: {
    method?: string;
    token?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers["x-auth-token"] = options.token;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url, { method: options.method ?? "GET", headers, body });
  const text = await res.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(intervalMs);
  }
}
