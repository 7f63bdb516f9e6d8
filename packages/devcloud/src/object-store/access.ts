/** @module object-store/access — who is asking, for which names, in which serialisation. */
import type { IncomingMessage } from "node:http";
import type { DevUser } from "../config.ts";
import { badRequest } from "../fault.ts";
import type { RouteContext } from "../router.ts";
import { requireUser } from "../users.ts";
import type { PithosStore } from "./store.ts";

/** The authenticated user (401 `unauthorized` without a token, 401 `fault` with a bad one). */
export function authenticate(store: PithosStore, req: IncomingMessage, url: URL): DevUser {
  return requireUser(store.ctx.users, req, url);
}

/** Pithos' name limits: container ≤ 256, object ≤ 1024 characters. */
export function checkNames(container?: string, object?: string): void {
  if (container !== undefined && container.length > 256) throw badRequest("Container name too large");
  if (object !== undefined && object.length > 1024) throw badRequest("Object name too large.");
}

/** The serialisation asked for with `?format=` (or `Accept`), defaulting as the call does. */
export function serialization(ctx: RouteContext, fallback: "text" | "json"): "text" | "json" {
  const format = ctx.query.get("format");
  if (format === "json") return "json";
  if (format === "xml" || format === "text") return fallback;
  const accept = ctx.req.headers.accept ?? "";
  if (accept.split(",").some((a) => a.trim().startsWith("application/json"))) return "json";
  return fallback;
}

/** ISO-8601 time as Pithos' listings print `last_modified`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+00:00");
}
