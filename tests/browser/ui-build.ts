/** @module ui-build — makes sure packages/web/dist is a fresh production build, and prints its JS size. */
import { spawnSync } from "node:child_process";
import { readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_DIR = fileURLToPath(new URL("../../packages/web/", import.meta.url));
export const DIST_DIR = join(WEB_DIR, "dist");
const VITE_BIN = fileURLToPath(new URL("../../node_modules/vite/bin/vite.js", import.meta.url));

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** True when dist/ is missing or older than any source of the UI. */
export function distIsStale(): boolean {
  const built = statSync(join(DIST_DIR, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(
    newestMtime(join(WEB_DIR, "src")),
    newestMtime(join(WEB_DIR, "index.html")),
    newestMtime(join(WEB_DIR, "vite.config.ts")),
    newestMtime(join(WEB_DIR, "package.json")),
  );
  return built < sources;
}

function run(args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd: WEB_DIR, encoding: "utf8" });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed (${result.status}):\n${output}`);
  return output;
}

/**
 * Builds the UI when stale, then measures it with the package's own size script (which fails over
 * the 200 KB budget). Returns the script's report, e.g. `first-load JS: 77.7 KB gzipped …`.
 */
export function ensureUiBuilt(): string {
  if (distIsStale()) {
    // Built beside dist/ and swapped in, so a service test reading dist/ meanwhile never sees it half-written.
    const fresh = `${DIST_DIR}.tmp-${process.pid}`;
    try {
      const out = run([VITE_BIN, "build", "--logLevel", "warn", "--outDir", fresh, "--emptyOutDir"]);
      if (out.trim()) console.log(out.trim());
      rmSync(DIST_DIR, { recursive: true, force: true });
      renameSync(fresh, DIST_DIR);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }
  return run([join(WEB_DIR, "scripts", "report-size.mjs")]).trim();
}
