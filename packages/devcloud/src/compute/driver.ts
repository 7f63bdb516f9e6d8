/**
 * @module driver — the contract between the server lifecycle (BUILD → ACTIVE → DELETED, the API) and what a
 * VM really is. One folder per implementation: `process/` (a directory and a child process, the default for
 * fast tests and the demo) and `qemu/` (a disk deployed as snf-image does, booted under QEMU).
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { DevFlavor } from "../config.ts";
import type { BootImage } from "./images.ts";
import type { ServerRecord } from "./server-store.ts";

/** The driver names a devcloud config or `--compute-driver` may choose. */
export const DRIVER_NAMES = ["process", "qemu"] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** One personality file of `POST /servers`, as Cyclades passes it on to snf-image. */
export interface PersonalityEntry {
  path: string;
  /** base64. */
  contents: string;
  /** Owner and group names inside the guest; default root. */
  owner?: string;
  group?: string;
  mode?: number;
}

/** What the API hands a driver when a server is created. */
export interface DeployRequest {
  image: BootImage;
  flavor: DevFlavor;
  personality: PersonalityEntry[];
  /** The password Cyclades returned as `adminPass`, to be set for the image's `USERS`. */
  adminPass: string;
}

export interface VmPaths {
  /** `<dataDir>/compute/servers/<id>` */
  dir: string;
  /** The process driver's filesystem root: `<dir>/root`. */
  root: string;
  /** What the VM prints (its serial console, or the agent's output): `<dir>/console.log`. */
  console: string;
}

export function vmPaths(dataDir: string, id: number): VmPaths {
  const dir = join(dataDir, "compute", "servers", String(id));
  return { dir, root: join(dir, "root"), console: join(dir, "console.log") };
}

/** Appends a `[devcloud …]` line to a VM's console, as a hypervisor's own messages. */
export function consoleLine(file: string, text: string): void {
  try {
    appendFileSync(file, `[devcloud ${new Date().toISOString()}] ${text}\n`);
  } catch {
    // The console is a convenience; a VM whose directory is gone has nothing to say.
  }
}

export interface ComputeDriver {
  readonly name: DriverName;
  /** Writes the VM's disk while it is in BUILD; a rejection puts the server in ERROR. */
  deploy(server: ServerRecord, request: DeployRequest): Promise<void>;
  /** Powers the VM on; resolves once it runs (a rejection puts the server in ERROR). */
  powerOn(server: ServerRecord): Promise<void>;
  /** Powers it off: gracefully first, forced once the grace period is over. */
  powerOff(server: ServerRecord): Promise<void>;
  /** Kills the VM at once, as a crash would; false when nothing ran. */
  kill(server: ServerRecord): Promise<boolean>;
  /** Frees what a deleted VM held (after {@link powerOff}). */
  destroy(server: ServerRecord): Promise<void>;
  /**
   * At devcloud start, for a server of an earlier run: finds what became of its VM — reattaches to it, or
   * stops what was left running, or powers on again a VM that should run.
   */
  recover(server: ServerRecord): Promise<void>;
  /** Driver facts for the admin API (console file, forwarded ports, process). */
  describe(server: ServerRecord): Record<string, unknown>;
  /** Stops the driver's own helpers (not the VMs: the manager powers them off first). */
  close?(): Promise<void>;
}
