/** @module tests/vm/vm-harness — what VM tests share: QEMU leak checks, a devcloud as a real process, admin reads. */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const run = promisify(execFile);
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** Pids of QEMU processes whose command line mentions `dir` (a test's data directory). */
export function qemuProcessesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (/qemu-system/.test(argv[0] ?? "") && argv.some((a) => a.includes(dir))) found.push(Number(entry));
  }
  return found;
}

/**
 * For `after` hooks: fails when a QEMU of this test is still running (after killing it, so one leak
 * does not cascade into the next test).
 */
export function assertNoQemuLeft(dir: string): void {
  const left = qemuProcessesUnder(dir);
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  if (left.length > 0) throw new Error(`QEMU processes left behind by the test: ${left.join(", ")}`);
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A devcloud started as its CLI (`icaas-devcloud`), so a test can crash it with SIGKILL. */
export interface DevcloudProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM and wait: a clean stop. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  crash(): Promise<void>;
}

export async function startDevcloudProcess(args: string[]): Promise<DevcloudProcess> {
  const cli = `${REPO}/packages/devcloud/src/cli.ts`;
  const child = spawn(process.execPath, ["--import", "tsx", cli, "--port", "0", ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await until(
    "the devcloud's banner",
    () => /listening on (http:\S+)/.exec(out)?.[1],
    30_000,
    100,
  ).catch((error: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${out}`);
  });
  return {
    url,
    child,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
    async crash() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A server as `GET /_devcloud/compute/servers` lists it (the fields VM tests read). */
export interface AdminServer {
  id: number;
  status: string;
  driver: string;
  pid: number | null;
  process: { pid: number; state: string } | null;
  ports: { ssh?: number };
  disk?: string;
  /** The delete finished: QEMU stopped, the disk and files removed. */
  destroyed: boolean;
  /** qemu driver: `bios` or `uefi`, and a UEFI VM's own variable store. */
  firmware?: "bios" | "uefi";
  nvram?: string | null;
  consoleLog: string;
}

export async function adminServer(url: string, id: number | string): Promise<AdminServer> {
  const res = await fetch(`${url}/_devcloud/compute/servers`);
  const { servers } = (await res.json()) as { servers: AdminServer[] };
  const found = servers.find((s) => String(s.id) === String(id));
  if (!found) throw new Error(`server ${id} is not in the devcloud's admin list`);
  return found;
}

export async function consoleOf(url: string, id: number | string): Promise<string> {
  const res = await fetch(`${url}/_devcloud/compute/servers/${id}/console`);
  if (res.status !== 200) throw new Error(`console of ${id}: ${res.status}`);
  return res.text();
}

/** A port free on 127.0.0.1 now, for a server whose URL must be known before it listens. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Waits until the devcloud says a deleted server's delete has finished (`destroyed`), then asserts
 * its QEMU no longer runs and its disk is gone. DELETE answers at once and the VM is marked deleted;
 * the power-off (ACPI, then kill) and the disk's removal follow.
 */
export async function waitQemuGoneAndDiskRemoved(
  url: string,
  id: number | string,
  disk: string,
): Promise<void> {
  // The devcloud says when its delete has finished; then QEMU and the disk must be gone.
  const s = await until(
    "the delete finished",
    async () => {
      const server = await adminServer(url, id);
      return server.destroyed ? server : undefined;
    },
    60_000,
  );
  assert.ok(s.pid === null || !isAlive(s.pid), "QEMU is gone");
  assert.ok(!existsSync(disk), "the disk is removed");
}
