/**
 * @module agent-image — the agent VM image (deploy/agent-image/build.sh), built once per version of its
 * recipe and of the agent bundle and cached: a second call, in this run or the next, is instant.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, utimesSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { REPO } from "./vm-harness.ts";

/** What the image is made of: a change to any of them makes a new image. */
const RECIPE_FILES = [
  "deploy/agent-image/build.sh",
  "scripts/lib/debian-disk.sh",
  "deploy/icaas-agent.service",
];
const BUNDLE = "packages/agent/dist/icaas-agent.mjs";

/** Where built images are kept: $ICAAS_AGENT_IMAGE_CACHE, else /var/cache/icaas/agent-image. */
export function agentImageCacheRoot(): string {
  return process.env.ICAAS_AGENT_IMAGE_CACHE ?? "/var/cache/icaas/agent-image";
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Progress goes to stderr: stdout belongs to the test runner.
    const child = spawn(command, args, { cwd: REPO, stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? code})`)),
    );
  });
}

/**
 * The agent image's raw diskdump, built now (as root, about a minute with a warm debootstrap cache)
 * unless this recipe and bundle made it before. Concurrent callers wait for one build.
 */
export async function ensureAgentImage(cacheRoot = agentImageCacheRoot()): Promise<string> {
  // The bundle is what the image runs: built first, its bytes are part of the key.
  await run("npm", ["run", "-s", "build", "-w", "packages/agent"]);
  const hash = createHash("sha256");
  for (const file of [...RECIPE_FILES, BUNDLE]) hash.update(readFileSync(join(REPO, file)));
  const dir = join(cacheRoot, hash.digest("hex").slice(0, 16));
  const image = join(dir, "agent.raw");
  if (!existsSync(image)) {
    if (process.getuid?.() !== 0) throw new Error("building the agent image needs root");
    await mkdir(dir, { recursive: true });
    // Built under another name and renamed: a half-written image is never taken for a built one.
    await run("flock", [
      join(cacheRoot, ".lock"),
      "sh",
      "-c",
      'test -f "$1" || { bash deploy/agent-image/build.sh "$1.tmp.raw" >&2 && mv "$1.tmp.raw" "$1"; }',
      "sh",
      image,
    ]);
  }
  utimesSync(dir, new Date(), new Date());
  return image;
}
