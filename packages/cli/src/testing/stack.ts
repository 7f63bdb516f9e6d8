/** @module testing/stack — a real devcloud, service and (optionally) agent on loopback for the CLI's tests. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentCommand, type SourceServer, startSourceServer } from "@icaas/agent/testing";
import { buildTestDisk } from "@icaas/imageprep/testing";
import { type Harness, startHarness, USER_A } from "@icaas/service/testing";
import { main } from "../cli.ts";
import { captureIo } from "../io.ts";

export interface Stack {
  harness: Harness;
  /** The service's base URL (what `--url` takes). */
  url: string;
  /** The demo user's token. */
  token: string;
  /** `--url` and `--token` as command options. */
  auth: { url: string; token: string };
  src: SourceServer;
  /** A small Debian disk image (raw) the agent builds in about two seconds. */
  diskUrl: string;
  /** That image's file. */
  diskPath: string;
  /** The same image at 1 MiB/s: a build that stays in its download step for a while. */
  slowUrl: string;
  close(): Promise<void>;
}

/**
 * Starts a devcloud and a service; with `agent` the devcloud's VMs run the real agent, and a source
 * server offers a test disk. `close()` fails if a build's VM is still alive.
 */
export async function startStack(options: { agent?: boolean } = {}): Promise<Stack> {
  const harness = await startHarness({
    cloud: options.agent ? { agent: { command: agentCommand() } } : {},
    service: { progressIntervalSeconds: 0.2 },
  });
  const src = await startSourceServer();
  let diskUrl = `${src.url}/missing.img`;
  let slowUrl = diskUrl;
  let diskPath = "";
  if (options.agent) {
    const disk = await buildTestDisk({ path: join(harness.dataDir, "source.raw"), diskMiB: 48, swap: false });
    src.serve("/disk.img", { path: disk.path });
    src.serve("/slow.img", { path: disk.path, bytesPerSecond: 1 << 20 });
    diskPath = disk.path;
    diskUrl = `${src.url}/disk.img`;
    slowUrl = `${src.url}/slow.img`;
  }
  const url = harness.service.url;
  return {
    harness,
    url,
    token: USER_A.token,
    auth: { url, token: USER_A.token },
    src,
    diskUrl,
    diskPath,
    slowUrl,
    // The source goes last: an agent still downloading must not see it vanish (it would retry for long).
    async close() {
      try {
        await harness.close();
      } finally {
        await src.close();
      }
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in this process, as `icaas <args>` with `env`, and checks that no output holds any
 * of `secrets` (the tokens).
 */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  secrets: string[] = [],
): Promise<CliRun> {
  const cap = captureIo();
  const code = await main(args, { io: cap.io, env: { HOME: "/nonexistent", ...env } });
  const run = { code, stdout: cap.stdout(), stderr: cap.stderr() };
  assertNoSecret(run, secrets);
  return run;
}

export function assertNoSecret(output: { stdout: string; stderr: string }, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!output.stdout.includes(secret), "a token is in stdout");
    assert.ok(!output.stderr.includes(secret), "a token is in stderr");
  }
}
