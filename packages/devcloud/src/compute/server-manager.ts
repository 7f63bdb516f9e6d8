/** @module server-manager — the life of devcloud servers: BUILD → ACTIVE → DELETED, and the processes they run. */
import type { ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { DevFlavor, DevUser } from "../config.ts";
import type { DevcloudContext } from "../context.ts";
import { badRequest, Fault, itemNotFound } from "../fault.ts";
import type { BootImage } from "./images.ts";
import { cwdOf, groupMembers, killGroup, startGroup, stopGroup } from "./process-group.ts";
import { type OperState, type ServerRecord, ServerStore, type VmProcess } from "./server-store.ts";
import { type PersonalityEntry, vmPaths, writeVmDisk } from "./vm-disk.ts";

export interface CreateInput {
  user: DevUser;
  name: string;
  image: BootImage;
  flavor: DevFlavor;
  metadata: Record<string, string>;
  personality: PersonalityEntry[];
  networks: string[];
  project: string;
}

/** Cyclades' `POLL_LIMIT`: how far back `changes-since` may reach. */
const POLL_LIMIT_MS = 3600 * 1000;

/** Resource usage charged to one (user, project), in Astakos' units. */
export interface ComputeUsage {
  "cyclades.vm": number;
  "cyclades.cpu": number;
  "cyclades.ram": number;
  "cyclades.disk": number;
}

export class ServerManager {
  readonly store: ServerStore;
  readonly #ctx: DevcloudContext;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(ctx: DevcloudContext) {
    this.#ctx = ctx;
    this.store = new ServerStore(ctx.dataDir);
  }

  /**
   * Loads the servers of an earlier run. Their processes died with it (or are stopped now if a crash left
   * them behind), so they are marked `gone`; the servers keep their state. Unfinished boots resume.
   */
  start(): void {
    this.store.load();
    const now = Date.now();
    for (const server of this.store.servers.values()) {
      const proc = server.process;
      if (proc && proc.state === "running") {
        this.#killOrphans(server, proc.pid);
        server.process = { ...proc, state: "gone", endedAt: now };
      }
      if (!server.deleted && server.operstate === "BUILD") this.#scheduleBoot(server);
    }
    this.store.save();
  }

  create(input: CreateInput): ServerRecord {
    const id = this.store.allocateId();
    const now = Date.now();
    const bootSeconds = this.#ctx.config.bootSeconds ?? 0.2;
    const server: ServerRecord = {
      id,
      name: input.name,
      userId: input.user.uuid,
      project: input.project,
      flavorId: input.flavor.id,
      vcpus: input.flavor.vcpus,
      ram: input.flavor.ram,
      disk: input.flavor.disk,
      imageId: input.image.id,
      metadata: input.metadata,
      networks: input.networks,
      operstate: "BUILD",
      deleted: false,
      taskState: "BUILDING",
      created: now,
      updated: now,
      bootAt: now + bootSeconds * 1000,
      agent: input.image.agent && this.#ctx.config.agent !== undefined,
    };
    const paths = vmPaths(this.#ctx.dataDir, id);
    try {
      writeVmDisk(paths, input.personality);
    } catch (error) {
      // snf-image fails the build when it cannot inject a file; the VM ends in ERROR.
      server.operstate = "ERROR";
      server.taskState = "";
      consoleLine(paths.console, `cannot write personality: ${(error as Error).message}`);
    }
    this.store.servers.set(id, server);
    this.store.save();
    this.#ctx.counters.add("compute.serversCreated");
    if (server.operstate === "BUILD") this.#scheduleBoot(server);
    return server;
  }

  /** A server of this user: 400 for an id that is not an integer, 404 for unknown and others' servers. */
  get(user: DevUser, idText: string): ServerRecord {
    if (!/^\d+$/.test(idText)) throw badRequest("Invalid server ID.");
    const server = this.store.servers.get(Number(idText));
    if (!server || server.userId !== user.uuid) throw itemNotFound("Server not found.");
    return server;
  }

  /**
   * The user's servers by id; deleted ones only with `changes-since`, which lists what changed since then
   * (an empty list is Cyclades' 304).
   */
  list(user: DevUser, changesSince: string | null): ServerRecord[] {
    const own = [...this.store.servers.values()]
      .filter((s) => s.userId === user.uuid)
      .sort((a, b) => a.id - b.id);
    if (!changesSince) return own.filter((s) => !s.deleted);
    const since = parseChangesSince(changesSince);
    return own.filter((s) => s.updated >= since);
  }

  delete(user: DevUser, idText: string): void {
    const server = this.get(user, idText);
    if (server.deleted) throw badRequest("Server has been deleted.");
    // `logic/servers.destroy` (every release): while Ganeti still runs the create job, the remove
    // would race it, so Cyclades refuses. Here the create job is the BUILD phase.
    if (server.operstate === "BUILD") throw new Fault(409, "buildInProgress", "Server is being build");
    this.#clearBoot(server.id);
    server.deleted = true;
    server.operstate = "DESTROYED";
    server.taskState = "";
    server.updated = Date.now();
    this.store.save();
    this.#ctx.counters.add("compute.serversDeleted");
    this.#track(this.#stopProcess(server, "stopped"));
  }

  /** `POST /servers/{id}/action`: start, shutdown, reboot, with `validate_server_action`'s checks. */
  action(user: DevUser, idText: string, name: "START" | "STOP" | "REBOOT"): void {
    const server = this.get(user, idText);
    if (server.deleted) throw badRequest("Server has been deleted.");
    if (server.operstate === "ERROR")
      throw badRequest(`Cannot perform '${name}' action while server is in 'ERROR' state.`);
    if (server.operstate === "BUILD")
      throw new Fault(409, "buildInProgress", `Server '${server.id}' is being built.`);
    if (
      (name === "START" && server.operstate !== "STOPPED") ||
      (name === "STOP" && server.operstate !== "STARTED")
    )
      throw badRequest(`Cannot perform '${name}' action while server is in '${server.operstate}' state.`);
    const next: OperState = name === "STOP" ? "STOPPED" : "STARTED";
    server.operstate = next;
    server.updated = Date.now();
    this.store.save();
    const stop = name === "START" ? Promise.resolve() : this.#stopProcess(server, "stopped");
    this.#track(
      stop.then(() => {
        if (next === "STARTED" && !server.deleted && server.operstate === "STARTED" && !this.#closed)
          this.#startAgent(server);
      }),
    );
  }

  /** Kills a server's processes at once (a crash); the server itself stays as it is. */
  async kill(id: number): Promise<boolean> {
    const server = this.store.servers.get(id);
    if (!server) throw itemNotFound("Server not found.");
    const proc = server.process;
    if (!proc || !this.#ownsGroup(server, proc)) return false;
    proc.state = "killed";
    const killed = await killGroup(proc.pid);
    this.#ctx.counters.add("compute.agentsKilled");
    this.store.save();
    return killed;
  }

  usage(userUuid: string, project: string): ComputeUsage {
    const usage: ComputeUsage = {
      "cyclades.vm": 0,
      "cyclades.cpu": 0,
      "cyclades.ram": 0,
      "cyclades.disk": 0,
    };
    for (const s of this.store.servers.values()) {
      if (s.deleted || s.userId !== userUuid || s.project !== project) continue;
      usage["cyclades.vm"] += 1;
      usage["cyclades.disk"] += s.disk * 2 ** 30;
      // CPU and RAM are charged to running servers only; a shutdown gives them back.
      if (s.operstate !== "STOPPED") {
        usage["cyclades.cpu"] += s.vcpus;
        usage["cyclades.ram"] += s.ram * 2 ** 20;
      }
    }
    return usage;
  }

  /** Stops every VM process and timer, waits for pending stops, and saves. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#timers.keys()]) this.#clearBoot(id);
    const stops = [...this.store.servers.values()].map((s) => this.#stopProcess(s, "stopped"));
    await Promise.allSettled([...stops, ...this.#pending]);
    this.store.save();
  }

  #scheduleBoot(server: ServerRecord): void {
    const timer = setTimeout(() => this.#boot(server.id), Math.max(0, server.bootAt - Date.now()));
    timer.unref();
    this.#timers.set(server.id, timer);
  }

  #clearBoot(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  #boot(id: number): void {
    this.#timers.delete(id);
    const server = this.store.servers.get(id);
    if (!server || server.deleted || server.operstate !== "BUILD" || this.#closed) return;
    server.operstate = "STARTED";
    server.taskState = "";
    server.updated = Date.now();
    this.#startAgent(server);
    this.store.save();
  }

  #startAgent(server: ServerRecord): void {
    const agent = this.#ctx.config.agent;
    if (!server.agent || !agent) return;
    const paths = vmPaths(this.#ctx.dataDir, server.id);
    const fill = (value: string) => value.replaceAll("{root}", paths.root);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: paths.root,
      LANG: "C.UTF-8",
      TMPDIR: join(paths.root, "tmp"),
    };
    for (const [k, v] of Object.entries(agent.env ?? {})) env[k] = fill(v);
    consoleLine(paths.console, `server ${server.id} booted, starting the agent`);
    let child: ChildProcess;
    try {
      child = startGroup({ argv: agent.command.map(fill), cwd: paths.root, env, logFile: paths.console });
    } catch (error) {
      this.#failed(server, paths.console, error);
      return;
    }
    if (child.pid === undefined) {
      child.once("error", (error) => this.#failed(server, paths.console, error));
      return;
    }
    const proc: VmProcess = { pid: child.pid, state: "running", startedAt: Date.now() };
    server.process = proc;
    this.#ctx.counters.add("compute.agentsStarted");
    child.once("exit", (code, signal) => {
      // An agent that ends on its own leaves the VM ACTIVE, like a VM whose daemon ended.
      if (proc.state === "running") proc.state = "exited";
      proc.exitCode = code;
      proc.signal = signal;
      proc.endedAt = Date.now();
      consoleLine(paths.console, `agent process ${proc.pid} ended (${signal ?? `exit code ${code}`})`);
      if (!this.#closed) this.store.save();
    });
  }

  #failed(server: ServerRecord, logFile: string, error: unknown): void {
    server.process = { pid: 0, state: "failed", startedAt: Date.now(), endedAt: Date.now() };
    consoleLine(logFile, `cannot start the agent: ${(error as Error).message}`);
    if (!this.#closed) this.store.save();
  }

  /** Stops what is left of a server's process group (the leader may have ended, its children not). */
  async #stopProcess(server: ServerRecord, state: "stopped"): Promise<void> {
    const proc = server.process;
    if (!proc || !this.#ownsGroup(server, proc)) return;
    if (proc.state === "running") proc.state = state;
    const grace = (this.#ctx.config.agent?.stopGraceSeconds ?? 3) * 1000;
    await stopGroup(proc.pid, grace);
  }

  /**
   * True when the process group still holds processes of this VM. While the leader runs its pid cannot be
   * reused; after it ended, a member must still work inside the VM's root for the group to be ours.
   */
  #ownsGroup(server: ServerRecord, proc: VmProcess): boolean {
    if (proc.pid <= 0 || proc.state === "gone" || proc.state === "failed") return false;
    const members = groupMembers(proc.pid);
    if (members.length === 0) return false;
    if (proc.state === "running") return true;
    const root = vmPaths(this.#ctx.dataDir, server.id).root;
    return members.some((pid) => cwdOf(pid)?.startsWith(root) === true);
  }

  /** After a crash of the devcloud, processes of its VMs may still run: stop them if they are provably ours. */
  #killOrphans(server: ServerRecord, pgid: number): void {
    const root = vmPaths(this.#ctx.dataDir, server.id).root;
    const members = groupMembers(pgid);
    if (members.some((pid) => cwdOf(pid)?.startsWith(root) === true)) this.#track(killGroup(pgid));
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error) => console.error("devcloud compute:", error));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}

/** `utils.isoparse` with Cyclades' checks. */
function parseChangesSince(text: string): number {
  const since = Date.parse(text);
  if (Number.isNaN(since)) throw badRequest("Invalid changes-since parameter.");
  const now = Date.now();
  if (since > now) throw badRequest("changes-since value set in the future.");
  if (now - since > POLL_LIMIT_MS) throw badRequest("Too old changes-since value.");
  return since;
}

function consoleLine(file: string, text: string): void {
  try {
    appendFileSync(file, `[devcloud ${new Date().toISOString()}] ${text}\n`);
  } catch {
    // The console is a convenience; a VM whose directory is gone has nothing to say.
  }
}
