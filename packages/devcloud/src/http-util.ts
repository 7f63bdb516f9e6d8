/** @module http-util — reading request bodies and writing answers the way Synnefo does. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, Fault } from "./fault.ts";

/** Reads the whole body, refusing more than `limit` bytes (413). */
export async function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Fault(413, "requestEntityTooLarge", "Request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON body; like Synnefo, a missing or wrong Content-Type is a 400. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"];
  if (!type) throw badRequest("Missing Content-Type header field");
  if (!type.startsWith("application/json")) throw badRequest(`Unsupported Content-type: '${type}'`);
  const body = await readBody(req, 1024 * 1024);
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw badRequest("Could not decode request body as JSON");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
): void {
  res.writeHead(status, { "content-length": 0, ...headers });
  res.end();
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendFault(res: ServerResponse, fault: Fault): void {
  const body = fault.body();
  res.writeHead(fault.status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(body),
    ...fault.headers,
  });
  res.end(body);
}
