#!/usr/bin/env node
/** @module report-size — prints the gzipped size of the JS a first visit loads, and fails above the budget. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 200 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

/** The scripts and modulepreloads index.html names: what the browser fetches before the app runs. */
export function firstLoadScripts(html) {
  const found = new Set();
  for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) found.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) found.add(m[1]);
  return [...found].filter((src) => src.startsWith("/") && !src.startsWith("//"));
}

/** Gzipped size (level 9, what a static server with precompression would send) of each first-load file. */
export function measure(distDir) {
  const html = readFileSync(join(distDir, "index.html"), "utf8");
  const files = firstLoadScripts(html).map((src) => {
    const raw = readFileSync(join(distDir, src));
    return { src, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  });
  return { files, gzip: files.reduce((n, f) => n + f.gzip, 0), raw: files.reduce((n, f) => n + f.raw, 0) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { files, gzip, raw } = measure(dist);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  for (const f of files) console.log(`  ${f.src}  ${kb(f.raw)} raw, ${kb(f.gzip)} gzipped`);
  console.log(`first-load JS: ${kb(gzip)} gzipped (${kb(raw)} raw); budget ${kb(BUDGET_BYTES)}`);
  if (files.length === 0) {
    console.error("report-size: index.html loads no script; is dist/ a vite build?");
    process.exit(1);
  }
  if (gzip > BUDGET_BYTES) {
    console.error(`report-size: first-load JS is over budget by ${kb(gzip - BUDGET_BYTES)}`);
    process.exit(1);
  }
}
