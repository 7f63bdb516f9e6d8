/**
 * The agent image's acceptance (issue 12), through the recipe's own check (deploy/agent-image/check.sh,
 * what `build.sh --boot-check` runs): a copy of the image, with the personality files Cyclades would
 * write, boots under QEMU to a login prompt on the serial console, and the agent, started by its enabled
 * unit after the network, asks for its manifest.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { ensureAgentImage } from "./agent-image.ts";
import { assertNoQemuLeft, REPO, run } from "./vm-harness.ts";

/** check.sh's own limit for the login prompt and the manifest fetch; the test's is a little longer. */
const CHECK_SECONDS = 600;

let dir = "";
let image = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "icaas-agent-check-"));
  // Through a link: check.sh keeps the console beside the image, here rather than in the shared cache.
  image = join(dir, "agent.raw");
  await symlink(await ensureAgentImage(), image);
});

after(async () => {
  try {
    assertNoQemuLeft(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("check.sh: the agent image boots to a login prompt on ttyS0 and its agent fetches the manifest", async () => {
  const t0 = Date.now();
  const consolePath = join(dir, "agent.check.log");
  const { stderr } = await run(
    "bash",
    [join(REPO, "deploy/agent-image/check.sh"), image, String(CHECK_SECONDS)],
    { cwd: REPO, env: { ...process.env, TMPDIR: dir }, timeout: (CHECK_SECONDS + 60) * 1000 },
  ).catch(async (error: Error) => {
    // The console goes with the directory: its end is the only account of how far the boot got.
    const tail = (await readFile(consolePath, "utf8").catch(() => "")).slice(-3000);
    throw new Error(`${error.message}\nconsole:\n${tail}`);
  });
  const seconds = /login prompt after (\d+) s; the agent fetched its manifest after (\d+) s/.exec(stderr);
  assert.ok(seconds, `check.sh's verdict:\n${stderr}`);
  console.log(
    `agent image check: login ${seconds[1]} s, manifest ${seconds[2]} s, whole check ${Date.now() - t0} ms`,
  );
  const consoleText = await readFile(consolePath, "utf8");
  assert.match(consoleText, /login:/, "a login prompt on the serial console");
  assert.match(
    consoleText,
    /icaas-agent\[\d+\]: .*fetching the manifest from http:\/\/10\.0\.2\.2:\d+\/builds\/agent\/check\//,
    "the agent's own line on the console: installed, its unit enabled and started",
  );
  // check.sh removed its copy of the image (and stopped its QEMU: the after hook checks).
  assert.deepEqual(
    (await run("find", [dir, "-name", "vm.raw"])).stdout.trim(),
    "",
    "check.sh's working copy is removed",
  );
});
