/** @module tests/vm/guest-ssh — logging in to a guest as a user would: OpenSSH with a key, to the forwarded port. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { until } from "./vm-harness.ts";

const exec = promisify(execFile);

export interface SshKey {
  /** The private key file. */
  file: string;
  /** The `authorized_keys` line. */
  publicLine: string;
}

/**
 * A fresh ed25519 key pair in a new directory (inside `dir` when given). Never an existing path:
 * ssh-keygen would ask whether to overwrite it and wait on stdin for ever (two boot tests sharing
 * one pipeline hung so).
 */
export async function makeSshKey(dir?: string): Promise<SshKey> {
  const where = await mkdtemp(join(dir ?? tmpdir(), "icaas-vm-key-"));
  const file = join(where, "id_ed25519");
  await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "icaas-vm-test", "-f", file]);
  return { file, publicLine: (await readFile(`${file}.pub`, "utf8")).trim() };
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Guest {
  port: number;
  user: string;
  key: SshKey;
  /** Runs a shell command in the guest; never throws on a non-zero exit. */
  run(command: string, timeoutMs?: number): Promise<SshResult>;
  /** Runs it and throws unless it exits 0; returns stdout. */
  must(command: string, timeoutMs?: number): Promise<string>;
}

export function guest(port: number, key: SshKey, user = "root"): Guest {
  const args = (command: string) => [
    ...[
      "-i",
      key.file,
      "-p",
      String(port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
    ],
    ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"],
    `${user}@127.0.0.1`,
    command,
  ];
  const g: Guest = {
    port,
    user,
    key,
    async run(command, timeoutMs = 120_000) {
      try {
        const { stdout, stderr } = await exec("ssh", args(command), {
          timeout: timeoutMs,
          maxBuffer: 64 << 20,
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
        return {
          code: typeof e.code === "number" ? e.code : 255,
          stdout: e.stdout ?? "",
          stderr: e.stderr ?? e.message,
        };
      }
    },
    async must(command, timeoutMs) {
      const r = await g.run(command, timeoutMs);
      if (r.code !== 0) throw new Error(`guest: '${command}' exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    },
  };
  return g;
}

/** Waits until `ssh` with the key logs in and runs `true`; returns how long it took. */
export async function waitForSsh(g: Guest, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last = "";
  await until(
    `ssh to 127.0.0.1:${g.port}`,
    async () => {
      const r = await g.run("true", 20_000);
      last = r.stderr.trim();
      return r.code === 0;
    },
    timeoutMs,
    2000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last: ${last})`);
  });
  return Date.now() - t0;
}
