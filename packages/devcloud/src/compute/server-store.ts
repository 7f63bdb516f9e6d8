/** @module server-store — the servers a devcloud has made, kept in `<dataDir>/compute/servers.json`. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Ganeti-side states, as Cyclades keeps them (`operstate`); the API `status` is derived from them. */
export type OperState = "BUILD" | "STARTED" | "STOPPED" | "ERROR" | "DESTROYED";

/** What happened to the process a VM runs (a QEMU, or for the process driver the agent). */
export interface VmProcess {
  pid: number;
  /** `gone`: the devcloud restarted while it ran; `failed`: it could not be started. */
  state: "running" | "exited" | "killed" | "stopped" | "failed" | "gone";
  exitCode?: number | null;
  signal?: string | null;
  startedAt: number;
  endedAt?: number;
}

export interface ServerRecord {
  id: number;
  name: string;
  userId: string;
  project: string;
  flavorId: number;
  vcpus: number;
  /** MiB. */
  ram: number;
  /** GiB. */
  disk: number;
  imageId: string;
  metadata: Record<string, string>;
  networks: string[];
  operstate: OperState;
  deleted: boolean;
  /** Set once a deleted server's disk and files are gone (its remove job finished, in Ganeti's terms). */
  destroyed?: boolean;
  /** `SNF:task_state`: BUILDING while booting, "" otherwise. */
  taskState: string;
  created: number;
  updated: number;
  /** When BUILD turns into ACTIVE (ms since epoch). */
  bootAt: number;
  /** True when the VM runs the configured agent command. */
  agent: boolean;
  /** The compute driver that made it; absent in files of older devclouds: `process`. */
  driver?: string;
  /** False while the driver writes its disk (BUILD); absent in older files: deployed. */
  deployed?: boolean;
  process?: VmProcess;
  /** Host ports forwarded to the VM (QEMU user networking): `{ "ssh": 40222 }`. */
  ports?: Record<string, number>;
}

interface StoreFile {
  nextId: number;
  servers: ServerRecord[];
}

/** The API status of a server (`get_rsapi_state`): a deleted VM is always DELETED. */
export function statusOf(server: ServerRecord): string {
  if (server.deleted) return "DELETED";
  const map: Record<OperState, string> = {
    BUILD: "BUILD",
    STARTED: "ACTIVE",
    STOPPED: "STOPPED",
    ERROR: "ERROR",
    DESTROYED: "DELETED",
  };
  return map[server.operstate] ?? "UNKNOWN";
}

/** Loads and saves the server list; every save replaces the file atomically (write, then rename). */
export class ServerStore {
  readonly path: string;
  nextId = 1;
  readonly servers = new Map<number, ServerRecord>();

  constructor(dataDir: string) {
    this.path = join(dataDir, "compute", "servers.json");
  }

  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const parsed = JSON.parse(text) as StoreFile;
    this.servers.clear();
    for (const server of parsed.servers) this.servers.set(server.id, server);
    this.nextId = Math.max(parsed.nextId, ...[...this.servers.keys()].map((id) => id + 1), 1);
  }

  save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const data: StoreFile = { nextId: this.nextId, servers: [...this.servers.values()] };
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 1)}\n`);
    renameSync(tmp, this.path);
  }

  allocateId(): number {
    return this.nextId++;
  }
}
