#!/usr/bin/env node
// Runs every benchmark under bench/ (each bench/<name>/run.ts) one after another, or the ones named.
// Each prints its ratios and writes bench/results/<name>.json.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const wanted = process.argv.slice(2);
const names = readdirSync(join(root, "bench"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "bench", d.name, "run.ts")))
  .map((d) => d.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n));
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join("bench", name, "run.ts")], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) failed++;
}
console.log(`\nbench: ${names.length - failed} ran, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
