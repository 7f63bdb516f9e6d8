/** @module http-json — small JSON requests to the ICaaS service over node:http(s), TLS checks optional. */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface JsonRequest {
  method: "GET" | "PUT";
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Skip TLS certificate checks (the manifest's `service.insecure`). */
  insecure?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: unknown;
}

/**
 * Sends one request and reads the (small) answer. Rejects only when no answer came (connection
 * refused, reset, timeout); every HTTP status resolves.
 */
export function requestJson(req: JsonRequest): Promise<JsonResponse> {
  const url = new URL(req.url);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  const headers: Record<string, string> = { accept: "application/json", ...req.headers };
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const r = send(
      url,
      {
        method: req.method,
        headers,
        signal: req.signal,
        ...(url.protocol === "https:" && req.insecure ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          // An answer this big is not one of ours; keep memory bounded.
          if (size <= 4 << 20) chunks.push(chunk);
        });
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    r.setTimeout(req.timeoutMs ?? 30_000, () =>
      r.destroy(new Error(`no answer within ${req.timeoutMs ?? 30_000} ms`)),
    );
    r.on("error", reject);
    r.end(payload);
  });
}

/** The `message` of an ICaaS error body (`{"message", "status", "code"}`), else the raw text. */
export function errorMessage(res: JsonResponse): string {
  const body = res.json as { message?: unknown } | undefined;
  if (body && typeof body.message === "string") return body.message;
  return res.text.slice(0, 200) || `HTTP ${res.status}`;
}
