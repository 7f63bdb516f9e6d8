/** @module vm-disk — a devcloud VM's "disk": a directory with the personality files written into it. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { PersonalityEntry, VmPaths } from "../driver.ts";

/**
 * Where a VM path lands on the host: always inside `root`. Like in a real VM, `..` cannot climb above `/`,
 * and a relative path is taken from `/`.
 */
export function hostPath(root: string, vmPath: string): string {
  const inside = posix.normalize(`/${vmPath}`);
  return join(root, inside);
}

/**
 * Creates the VM's directories and writes its personality files, applying `mode` (owner and group need
 * root, so they are left to the host user).
 */
export function writeVmDisk(paths: VmPaths, personality: readonly PersonalityEntry[]): void {
  mkdirSync(paths.root, { recursive: true });
  mkdirSync(join(paths.root, "tmp"), { recursive: true });
  writeFileSync(paths.console, "", { flag: "a" });
  for (const file of personality) {
    const target = hostPath(paths.root, file.path);
    mkdirSync(posix.dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(file.contents, "base64"));
    if (file.mode !== undefined) chmodSync(target, file.mode & 0o7777);
  }
}
