import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { MANIFEST_PATH, MARKER_PATH } from "@icaas/contract";
import { bundle } from "./bundle.ts";

const run = promisify(execFile);

async function agent(
  file: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? "" } });
    return { code: 0, ...r };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("bundle", () => {
  let dir: string;
  let file: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-bundle-"));
    file = await bundle(join(dir, "icaas-agent.mjs"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is one self-contained file for node18 that takes undici 6, with a shebang", async () => {
    const text = await readFile(file, "utf8");
    assert.ok(text.startsWith("#!/usr/bin/env node\n"));
    assert.doesNotMatch(text, /^import\s[^;]*?from\s*["'](?!node:)[^"']+["']/m, "no imports but node's own");
    assert.match(text, /node_modules\/undici6\//);
    assert.doesNotMatch(text, /node_modules\/undici\//);
  });

  it("runs without any node_modules: --help lists the options", async () => {
    const r = await agent(file, ["--help"]);
    assert.equal(r.code, 0);
    for (const option of ["--manifest", "--root", "--work-dir"]) assert.match(r.stdout, new RegExp(option));
  });

  it("does nothing when the /.icaas marker is gone (it ran already)", async () => {
    const root = join(dir, "vm-done");
    await mkdir(root);
    const r = await agent(file, ["--root", root]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /nothing to do/);
  });

  it("exits 3 when the manifest cannot say where to report, and runs only once", async () => {
    const root = join(dir, "vm-bad");
    await mkdir(join(root, dirname(MANIFEST_PATH)), { recursive: true });
    await writeFile(join(root, MARKER_PATH), "empty");
    await writeFile(join(root, MANIFEST_PATH), "[image]\nsrc = http://example.org/x.zip\n");
    const r = await agent(file, ["--root", root]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /`status' is missing from the `service' section of the manifest/);
    const again = await agent(file, ["--root", root]);
    assert.equal(again.code, 0, "the marker was removed: a second start does nothing");
  });
});
