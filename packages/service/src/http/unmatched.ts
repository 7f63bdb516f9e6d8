/** @module http/unmatched — requests no route takes: 405 with `Allow` for a known path, else 404. */
import type { FastifyInstance } from "fastify";
import { errors } from "../errors.ts";

/** A route path as a regular expression: `/icaas/builds/:id` → `^/icaas/builds/[^/]+$`. */
function pathPattern(url: string): RegExp {
  const segments = url
    .split("/")
    .map((s) => (s.startsWith(":") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${segments.join("/")}$`);
}

/**
 * Fastify answers a path it knows, asked with a method it has no route for, as an unknown route
 * (404). The API says 405 and lists the path's methods in `Allow` (RFC 9110 §15.5.6), so a client
 * learns it used the wrong method, not the wrong address. Both go through the one error handler.
 * The UI's catch-all (`/*`) is left out: whether a GET finds a file there is known only by trying.
 * Install before the routes: their paths are learnt as they are added.
 */
export function installUnmatchedAnswer(app: FastifyInstance): void {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook("onRoute", (route) => {
    if (route.url.includes("*")) return;
    const entry = routes.get(route.url) ?? { pattern: pathPattern(route.url), methods: new Set() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    routes.set(route.url, entry);
  });
  app.setNotFoundHandler(async (request) => {
    const path = request.url.split("?")[0] ?? "/";
    const allowed = new Set<string>();
    for (const { pattern, methods } of routes.values()) {
      if (pattern.test(path)) for (const method of methods) allowed.add(method);
    }
    if (allowed.size === 0) throw errors.notFound();
    throw errors.methodNotAllowed({ allow: [...allowed].sort().join(", ") });
  });
}
