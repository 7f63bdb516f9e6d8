#!/usr/bin/env node
// Finds every *.test.ts below the given roots (default: packages and tests, without tests/vm) and runs
// them with node's own test runner through tsx. Node 20 has no glob support in `--test`, hence this file.
// tests/vm boots QEMU guests for minutes: `npm run test:vm` runs it on its own, one file at a time.
import { spawn } from "node:child_process";
import { lstatSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith("--"));
const passThrough = args.filter((a) => a.startsWith("--"));

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    // lstat: a symlink (even a dangling one in a fixture tree) is never followed.
    if (lstatSync(path).isDirectory()) find(path, out);
    else if (name.endsWith(".test.ts") || name.endsWith(".test.tsx")) out.push(path);
  }
  return out;
}

const VM_TESTS = join(root, "tests/vm");
const files = [];
for (const r of roots.length > 0 ? roots : ["packages", "tests"]) {
  const abs = join(root, r);
  if (statSync(abs, { throwIfNoEntry: false })?.isFile()) files.push(abs);
  else if (statSync(abs, { throwIfNoEntry: false })) find(abs, files);
}
if (roots.length === 0) files.splice(0, files.length, ...files.filter((f) => !f.startsWith(`${VM_TESTS}/`)));
files.sort();
if (files.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}
console.log(`run-tests: ${files.length} files`);
const child = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    ...passThrough,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: "inherit" },
);
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
