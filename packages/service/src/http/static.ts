/** @module http/static — the built web UI at `/`, with an SPA fallback and immutable hashed assets. */
import { createReadStream, existsSync, type Stats, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import type { FastifyInstance } from "fastify";
import { errors } from "../errors.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** Vite names built assets `name-<hash>.ext`: those never change, so they are cached for a year. */
const HASHED = /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/** The `dist` folder of the `@icaas/web` workspace package, when it has been built. */
export function defaultWebDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve("@icaas/web/package.json");
    const dist = join(dirname(pkg), "dist");
    return existsSync(join(dist, "index.html")) ? dist : undefined;
  } catch {
    return undefined;
  }
}

/** A path the filesystem refuses (ENOTDIR, ENAMETOOLONG, a NUL byte) is as absent as a missing one. */
function fileStats(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** Paths that belong to the API: never answered with the UI. */
function isApiPath(path: string): boolean {
  return path === "/icaas" || path.startsWith("/icaas/") || path === "/metrics";
}

/**
 * Serves `webDir` for GET/HEAD outside the API. Unknown paths without a file extension get
 * `index.html` (client-side routes); unknown assets get 404.
 */
export function installStatic(app: FastifyInstance, webDir: string | undefined): void {
  const root = webDir ? resolve(webDir) : undefined;
  const index = root ? join(root, "index.html") : undefined;
  const hasUi = index !== undefined && existsSync(index);

  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const path = decodeURIComponent(request.url.split("?")[0] ?? "/");
    if (!hasUi || !root || isApiPath(path)) throw errors.notFound();
    const target = normalize(join(root, path));
    if (target !== root && !target.startsWith(root + sep)) throw errors.notFound();
    let file = target;
    let stats = fileStats(file);
    if (!stats?.isFile()) {
      if (extname(path) !== "") throw errors.notFound();
      file = index!;
      stats = fileStats(file);
      if (!stats?.isFile()) throw errors.notFound();
    }
    const etag = `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const immutable = file !== index && HASHED.test(file);
    reply
      .header("content-type", TYPES[extname(file).toLowerCase()] ?? "application/octet-stream")
      .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .header("etag", etag)
      .header("x-content-type-options", "nosniff");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    reply.header("content-length", stats.size);
    return reply.send(createReadStream(file));
  });
}
