/** @module server-manager — the life of devcloud servers: BUILD → ACTIVE → DELETED, and the processes they run. */
import type { DevFlavor, DevUser } from "../config.ts";
import type { DevcloudContext } from "../context.ts";
import { badRequest, Fault, itemNotFound } from "../fault.ts";
import {
  type ComputeDriver,
  consoleLine,
  type DriverName,
  type PersonalityEntry,
  vmPaths,
} from "./driver.ts";
import type { BootImage } from "./images.ts";
import { type OperState, type ServerRecord, ServerStore } from "./server-store.ts";

export interface CreateInput {
  user: DevUser;
  name: string;
  image: BootImage;
  flavor: DevFlavor;
  metadata: Record<string, string>;
  personality: PersonalityEntry[];
  networks: string[];
  project: string;
  adminPass: string;
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
  readonly #drivers = new Map<DriverName, ComputeDriver>();
  readonly #makeDriver: (name: DriverName, changed: () => void) => ComputeDriver;
  readonly #ctx: DevcloudContext;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(ctx: DevcloudContext, makeDriver: (name: DriverName, changed: () => void) => ComputeDriver) {
    this.#ctx = ctx;
    this.store = new ServerStore(ctx.dataDir);
    this.#makeDriver = makeDriver;
  }

  /** The driver of a server: the one that made it (older records: process). */
  driverOf(server: ServerRecord): ComputeDriver {
    return this.#driver((server.driver as DriverName | undefined) ?? "process");
  }

  #driver(name: DriverName): ComputeDriver {
    let driver = this.#drivers.get(name);
    if (!driver) {
      driver = this.#makeDriver(name, () => this.#saveIfOpen());
      this.#drivers.set(name, driver);
    }
    return driver;
  }

  /**
   * Loads the servers of an earlier run and lets the driver find what became of their VMs. A deployment
   * the restart interrupted cannot go on (its request was not kept: it holds the password), so the server
   * ends in ERROR; a deployed server still in BUILD boots.
   */
  async start(): Promise<void> {
    this.store.load();
    for (const server of this.store.servers.values()) {
      if (!server.deleted && server.operstate === "BUILD" && server.deployed === false) {
        this.#error(server, "the devcloud restarted while the disk was being deployed");
        await this.#destroy(server);
        continue;
      }
      try {
        await this.driverOf(server).recover(server);
      } catch (error) {
        this.#error(server, `cannot recover the VM after a restart: ${(error as Error).message}`);
        continue;
      }
      // Recovery destroys what a deleted server left behind.
      if (server.deleted) server.destroyed = true;
      if (!server.deleted && server.operstate === "BUILD") this.#scheduleBoot(server);
    }
    this.store.save();
  }

  /** Removes the disk and files of a server; the admin API reports `destroyed` only after this. */
  async #destroy(server: ServerRecord): Promise<void> {
    await this.driverOf(server).destroy(server);
    server.destroyed = true;
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
      // A flavor may name its own driver, as a Cyclades flavor's disk template picks a Ganeti backend.
      driver: input.flavor.driver ?? this.#ctx.config.computeDriver ?? "process",
      deployed: false,
    };
    this.store.servers.set(id, server);
    this.store.save();
    this.#ctx.counters.add("compute.serversCreated");
    const request = {
      image: input.image,
      flavor: input.flavor,
      personality: input.personality,
      adminPass: input.adminPass,
    };
    this.#track(
      this.driverOf(server)
        .deploy(server, request)
        .then(
          () => {
            server.deployed = true;
            // A server deleted while its disk was written: nothing powered it off, but the disk must go.
            if (server.deleted) return this.#destroy(server);
            if (this.#closed) return;
            this.store.save();
            this.#scheduleBoot(server);
          },
          // snf-image fails the build when it cannot deploy the image or inject a file; the VM ends in ERROR.
          (error: Error) => this.#error(server, `cannot deploy the image: ${error.message}`),
        ),
    );
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
    const driver = this.driverOf(server);
    this.#track(
      driver
        .powerOff(server)
        .then(() => this.#destroy(server))
        .then(() => this.#saveIfOpen()),
    );
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
    const stop = name === "START" ? Promise.resolve() : this.driverOf(server).powerOff(server);
    this.#track(
      stop.then(async () => {
        if (next === "STARTED" && !server.deleted && server.operstate === "STARTED" && !this.#closed)
          await this.#powerOn(server);
        this.#saveIfOpen();
      }),
    );
  }

  /** Kills a server's VM at once (a crash); the server itself stays as it is. */
  async kill(id: number): Promise<boolean> {
    const server = this.store.servers.get(id);
    if (!server) throw itemNotFound("Server not found.");
    const killed = await this.driverOf(server).kill(server);
    this.#saveIfOpen();
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

  /** Powers every VM off and stops every timer, waits for pending work, and saves. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#timers.keys()]) this.#clearBoot(id);
    const stops = [...this.store.servers.values()].map((s) => this.driverOf(s).powerOff(s));
    await Promise.allSettled([...stops, ...this.#pending]);
    for (const driver of this.#drivers.values()) await driver.close?.();
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
    this.#track(
      this.#powerOn(server).then((ok) => {
        if (!ok || server.deleted || server.operstate !== "BUILD") return;
        server.operstate = "STARTED";
        server.taskState = "";
        server.updated = Date.now();
        this.#saveIfOpen();
      }),
    );
  }

  /** Powers a VM on; a VM that cannot run ends in ERROR. */
  async #powerOn(server: ServerRecord): Promise<boolean> {
    try {
      await this.driverOf(server).powerOn(server);
      return true;
    } catch (error) {
      if (!server.deleted) this.#error(server, `cannot power the VM on: ${(error as Error).message}`);
      return false;
    }
  }

  #error(server: ServerRecord, why: string): void {
    consoleLine(vmPaths(this.#ctx.dataDir, server.id).console, why);
    if (server.deleted) return;
    server.operstate = "ERROR";
    server.taskState = "";
    server.updated = Date.now();
    this.#saveIfOpen();
  }

  #saveIfOpen(): void {
    if (!this.#closed) this.store.save();
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
