/** @module process-group — a VM's processes: started in a group of their own, found and stopped as a group. */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface StartOptions {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** File both stdout and stderr are appended to. */
  logFile: string;
}

/**
 * Starts a process as the leader of a new process group (detached), so the group id is its pid and every
 * child it forks can be signalled at once.
 */
export function startGroup(options: StartOptions): ChildProcess {
  const [command, ...args] = options.argv;
  if (!command) throw new Error("empty agent command");
  const out = openSync(options.logFile, "a");
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    // The devcloud's own server keeps the event loop alive; a VM process must not.
    child.unref();
    return child;
  } finally {
    closeSync(out);
  }
}

/** Live (not zombie) members of a process group. Reads /proc; elsewhere asks the kernel with signal 0. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return signalZero(-pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") members.push(Number(entry));
  }
  return members;
}

export function isGroupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/** The working directory of a process, or undefined when it is gone or not ours to read. */
export function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** Sends a signal to the whole group; false when no member is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a group: SIGTERM, then SIGKILL to whatever is left after `graceMs`. Resolves once no live
 * member remains (or, if the kernel keeps one we cannot kill, after a last short wait).
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<"terminated" | "killed" | "gone"> {
  if (!isGroupAlive(pgid)) return "gone";
  signalGroup(pgid, "SIGTERM");
  if (await waitGone(pgid, graceMs)) return "terminated";
  signalGroup(pgid, "SIGKILL");
  await waitGone(pgid, 2_000);
  return "killed";
}

/** Kills a group at once (SIGKILL), as a crash would. */
export async function killGroup(pgid: number): Promise<boolean> {
  if (!isGroupAlive(pgid)) return false;
  signalGroup(pgid, "SIGKILL");
  await waitGone(pgid, 2_000);
  return true;
}

/** Waits until no live member of the group is left; false when `ms` passed first. */
export async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!isGroupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
}

function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
