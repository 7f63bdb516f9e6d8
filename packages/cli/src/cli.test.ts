/** Tests of the `icaas` command line: argument parsing, exit codes, and the real executable (bin) in a child process. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { IcaasClient } from "./client.ts";
import { EXIT } from "./errors.ts";
import { assertNoSecret, runCli, type Stack, startStack } from "./testing/stack.ts";

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));
const REPO = dirname(dirname(PACKAGE));

/**
 * Runs the `icaas` bin as npm links it (`node_modules/.bin/icaas`, a launcher that loads tsx from the
 * checkout), from a directory outside the checkout, as a user would.
 */
function spawnIcaas(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = (JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { bin: { icaas: string } })
    .bin.icaas;
  assert.equal(bin, "./bin/icaas.mjs");
  const child = spawn(join(REPO, "node_modules", ".bin", "icaas"), args, {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH, HOME: "/nonexistent", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
    options.onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("icaas (command line)", () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;
  let secrets: string[];

  before(async () => {
    stack = await startStack();
    env = { ICAAS_URL: stack.url, ICAAS_TOKEN: stack.token };
    secrets = [stack.token];
  });
  after(async () => {
    await stack?.close();
  });

  it("prints help and version (exit 0) without the token, even when ICAAS_TOKEN is set", async () => {
    const help = await runCli(["--help"], env, secrets);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: icaas \[options\] \[command\]/);
    for (const command of ["create", "list", "show", "wait", "cancel", "delete", "log"])
      assert.match(help.stdout, new RegExp(`^ {2}${command}\\b`, "m"), command);
    const createHelp = await runCli(["create", "--help"], env, secrets);
    assert.match(createHelp.stdout, /--checksum <algo:hex>/);
    const version = await runCli(["--version"], env, secrets);
    assert.deepEqual([version.code, version.stdout], [0, "0.1.0\n"]);
  });

  it("exits 2 for usage errors, with a message saying what is wrong", async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage: icaas/],
      [["frobnicate"], /error: unknown command 'frobnicate'/],
      [["list", "--bogus"], /error: unknown option '--bogus'/],
      [["show"], /error: missing required argument 'id'/],
      [
        ["show", "twelve"],
        /^error: invalid build id "twelve": expected a positive number\nhint: see the ids with: icaas list\n$/,
      ],
      [["wait", "1", "--timeout", "soon"], /error: option '--timeout <duration>' argument 'soon' is invalid/],
      [
        ["list", "--status", "finished"],
        /^error: invalid status "finished"\nhint: one of CREATING, COMPLETED/,
      ],
      [["list", "--limit", "5000"], /^error: invalid limit 5000: expected an integer from 1 to 1000\n$/],
      [["list", "--url", "ftp://x"], /^error: invalid service URL "ftp:\/\/…": only http and https\n$/],
    ];
    for (const [args, expected] of cases) {
      const run = await runCli(args, env, secrets);
      assert.equal(run.code, EXIT.usage, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, expected, args.join(" "));
      assert.equal(run.stdout, "", args.join(" "));
    }
  });

  it("takes --url and --token before or after the command; no URL is exit 2, no token exit 3", async () => {
    const before = await runCli(["--url", stack.url, "--token", stack.token, "list", "--json"], {}, secrets);
    const after = await runCli(["list", "--json", "--url", stack.url, "--token", stack.token], {}, secrets);
    assert.deepEqual([before.code, before.stdout], [0, "[]\n"]);
    assert.deepEqual([after.code, after.stdout], [0, "[]\n"]);
    const noUrl = await runCli(["list"], { ICAAS_TOKEN: stack.token }, secrets);
    assert.equal(noUrl.code, EXIT.usage);
    assert.match(noUrl.stderr, /^error: no service URL\nhint: pass --url, set ICAAS_URL or put "url" in /);
    const noToken = await runCli(["list"], { ICAAS_URL: stack.url }, secrets);
    assert.equal(noToken.code, EXIT.auth);
    assert.match(noToken.stderr, /^error: no token \(token_missing\)\n/);
  });

  it("says which URL it could not reach (exit 1)", async () => {
    const probe = createServer();
    await new Promise<void>((ok) => probe.listen(0, "127.0.0.1", ok));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((ok) => probe.close(() => ok()));
    const run = await runCli(["show", "3", "--url", `http://127.0.0.1:${port}`], env, secrets);
    assert.equal(run.code, EXIT.failure);
    assert.equal(
      run.stderr,
      `error: could not reach http://127.0.0.1:${port}/icaas/builds/3: connection refused (ECONNREFUSED)\n`,
    );
  });

  it("the real executable: JSON on stdout (exit 0), a refused token (exit 3) never printed", async () => {
    const client = new IcaasClient({ api: `${stack.url}/icaas`, token: stack.token });
    const { build } = await client.createBuild({ name: "spawned", src: `${stack.src.url}/x.img` });
    try {
      const shown = await spawnIcaas(["show", String(build.id), "--json"], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).name, "spawned");
      assertNoSecret(shown, secrets);

      const badToken = "bad-token-0b7c1d2e3f4a5b6c7d8e9f";
      const refused = await spawnIcaas(["list", "--token", badToken], { ICAAS_URL: stack.url });
      assert.equal(refused.code, EXIT.auth);
      assert.equal(
        refused.stderr,
        "error: Invalid token (invalid_token)\nhint: check the token (--token, ICAAS_TOKEN or the config file)\n",
      );
      assertNoSecret(refused, [badToken, ...secrets]);
    } finally {
      await client.deleteBuild(build.id);
    }
  });

  it("the real executable: Ctrl-C stops `wait` (exit 130) and leaves the build running", async () => {
    const client = new IcaasClient({ api: `${stack.url}/icaas`, token: stack.token });
    const { build } = await client.createBuild({ name: "interrupted", src: `${stack.src.url}/x.img` });
    try {
      let sent = false;
      const run = await spawnIcaas(["wait", String(build.id), "--interval", "0.1"], env, {
        onStderr: (text, child) => {
          if (!sent && text.includes(`build ${build.id}: `)) {
            sent = true;
            child.kill("SIGINT");
          }
        },
      });
      assert.equal(run.code, EXIT.interrupted, run.stderr);
      assert.match(run.stderr, new RegExp(`\\nstopped; the build goes on \\(icaas wait ${build.id}\\)\\n$`));
      assert.equal((await client.getBuild(build.id)).status, "CREATING");
      assertNoSecret(run, secrets);
    } finally {
      await client.deleteBuild(build.id);
    }
  });
});
