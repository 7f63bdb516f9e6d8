/** @module router — a small method + path router with Synnefo's 400/405 answers for strays. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, notAllowed } from "./fault.ts";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Decoded path parameters: `:name` segments, and `*name` for the rest of the path. */
  params: Record<string, string>;
  query: URLSearchParams;
  url: URL;
}

export type Handler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export interface RouterOptions {
  /**
   * Patterns match exactly, slash for slash, as Django's do with `APPEND_SLASH = False` (Plankton).
   * Otherwise a trailing slash is optional, as Cyclades' and Pithos' patterns allow.
   */
  exactPaths?: boolean;
}

/**
 * Routes requests under one API prefix. An unknown path gives 400 "API endpoint not found"; a known
 * path with another method gives 405 with `Allow`, as Synnefo does.
 *
 * @example
 * const r = new Router("/compute/v2.0");
 * r.add("GET", "/servers/:id", getServer);
 */
export class Router {
  readonly prefix: string;
  readonly #routes: Route[] = [];
  readonly #slash: string;

  constructor(prefix: string, options: RouterOptions = {}) {
    this.prefix = prefix.replace(/\/+$/, "");
    this.#slash = options.exactPaths ? "" : "/?";
  }

  add(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const source = pattern
      .split("/")
      .map((part) => {
        if (part.startsWith(":")) {
          keys.push(part.slice(1));
          return "([^/]+)";
        }
        if (part.startsWith("*")) {
          keys.push(part.slice(1));
          return "(.+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    this.#routes.push({ method, regex: new RegExp(`^${source}${this.#slash}$`), keys, handler });
    return this;
  }

  /** True when the path is under this router's prefix. */
  owns(pathname: string): boolean {
    return pathname === this.prefix || pathname.startsWith(`${this.prefix}/`);
  }

  /** Finds and runs the handler; throws a `Fault` for unknown paths and wrong methods. */
  async dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const rest = url.pathname.slice(this.prefix.length) || "/";
    const allowed = new Set<string>();
    // An explicit HEAD route wins; otherwise HEAD is served by the GET route (body dropped by Node).
    const wanted = req.method === "HEAD" ? ["HEAD", "GET"] : [req.method ?? "GET"];
    for (const method of wanted) {
      for (const route of this.#routes) {
        const match = route.regex.exec(rest);
        if (!match) continue;
        if (route.method !== method) {
          allowed.add(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        route.keys.forEach((key, i) => {
          params[key] = decodePathPart(match[i + 1] ?? "");
        });
        await route.handler({ req, res, params, query: url.searchParams, url });
        return;
      }
    }
    if (allowed.size > 0) throw notAllowed([...allowed]);
    throw badRequest("API endpoint not found");
  }
}

/** A path segment with its %-escapes decoded; a broken escape is a bad request, not a crash. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw badRequest("Malformed request path");
  }
}
