/** @module testing/guest — reads an image back with plain debugfs and byte scans, independent of the code under test. */
import { open } from "node:fs/promises";
import { runTool } from "../run-tool.ts";

export interface GuestStat {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** For a fast symbolic link. */
  target?: string;
}

function spec(image: string, offset: number): string {
  return `${image}?offset=${offset}`;
}

function q(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The contents of a regular file in the guest (links are not followed), or undefined when missing. */
export async function guestCat(image: string, offset: number, path: string): Promise<string | undefined> {
  const st = await guestStat(image, offset, path);
  if (st?.type !== "regular") return undefined;
  const r = await runTool("debugfs", ["-R", `cat ${q(path)}`, spec(image, offset)]);
  return r.stdout;
}

/** `debugfs stat` of a guest path, parsed; undefined when missing. */
export async function guestStat(image: string, offset: number, path: string): Promise<GuestStat | undefined> {
  const r = await runTool("debugfs", ["-R", `stat ${q(path)}`, spec(image, offset)]);
  const m = /Type: (\S+)\s+Mode:\s+(\d+)/.exec(r.stdout);
  if (!m) return undefined;
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size:\s+(\d+)/.exec(r.stdout);
  const st: GuestStat = {
    type: m[1] as string,
    mode: Number.parseInt(m[2] as string, 8),
    uid: Number(owner?.[1]),
    gid: Number(owner?.[2]),
    size: Number(owner?.[3]),
  };
  const link = /Fast link dest: "(.*)"/.exec(r.stdout);
  if (link) st.target = link[1] as string;
  return st;
}

/** Names in a guest directory (without `.` and `..`); empty when missing. */
export async function guestLs(image: string, offset: number, dir: string): Promise<string[]> {
  const r = await runTool("debugfs", ["-R", `ls -p ${q(dir)}`, spec(image, offset)]);
  return r.stdout
    .split("\n")
    .filter((l) => l.startsWith("/"))
    .map((l) => l.split("/")[5] as string)
    .filter((n) => n !== "." && n !== ".." && n !== undefined);
}

/** Whether `needle` occurs anywhere in the file, read in 8 MiB chunks (holes read as zeros). */
export async function fileContains(path: string, needle: string | Buffer): Promise<boolean> {
  const pattern = typeof needle === "string" ? Buffer.from(needle) : needle;
  const fh = await open(path, "r");
  try {
    const chunk = Buffer.alloc(8 << 20);
    let carry = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return false;
      position += bytesRead;
      const window = Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      if (window.includes(pattern)) return true;
      carry = window.subarray(Math.max(0, window.length - pattern.length + 1));
    }
  } finally {
    await fh.close();
  }
}
