/**
 * @module qemu/driver — VMs that are real: the image deployed to a disk as snf-image does, booted by QEMU
 * with a virtio disk and NIC, user networking with the SSH port forwarded on 127.0.0.1, the serial console
 * in the VM's console file, QMP for control. QEMU runs detached with a pidfile, so a devcloud restart
 * finds it again (or stops it when its server is gone).
 */
import { createReadStream, existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import type { DevcloudContext } from "../../context.ts";
import type { ObjectStoreModule } from "../../object-store/index.ts";
import { type ComputeDriver, consoleLine, type DeployRequest, vmPaths } from "../driver.ts";
import type { BootImage } from "../images.ts";
import { isGroupAlive } from "../process/process-group.ts";
import { macAddress } from "../render.ts";
import type { ServerRecord } from "../server-store.ts";
import { type AccelChoice, chooseAccel } from "./accel.ts";
import { deployDisk, writeSparse } from "./deploy.ts";
import { createNvram, firmwareOf, ovmfFiles } from "./firmware.ts";
import {
  freePort,
  killQemu,
  powerOffQemu,
  type QemuPaths,
  qemuArgv,
  qemuPaths,
  runningQemu,
  startQemu,
} from "./qemu-process.ts";

export class QemuDriver implements ComputeDriver {
  readonly name = "qemu";
  readonly #ctx: DevcloudContext;
  readonly #changed: () => void;
  readonly #watchers = new Map<number, NodeJS.Timeout>();
  #accel?: Promise<AccelChoice>;

  constructor(ctx: DevcloudContext, changed: () => void) {
    this.#ctx = ctx;
    this.#changed = changed;
  }

  #paths(server: ServerRecord): QemuPaths {
    return qemuPaths(vmPaths(this.#ctx.dataDir, server.id));
  }

  async deploy(server: ServerRecord, request: DeployRequest): Promise<void> {
    const paths = this.#paths(server);
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.console, "", { flag: "a" });
    const log = (line: string) => consoleLine(paths.console, line);
    const started = Date.now();
    // snf-image sees them as SNF_IMAGE_PROPERTY_<NAME>; Plankton keeps them in lower case.
    const properties = Object.fromEntries(
      Object.entries(request.image.metadata).map(([k, v]) => [k.toUpperCase(), v]),
    );
    try {
      const firmware = firmwareOf(properties);
      const written = await writeSparse(paths.disk, await this.#imageBytes(request.image));
      log(`diskdump: ${written} bytes of image ${request.image.id} copied to ${paths.disk}`);
      await deployDisk(paths.disk, {
        sizeBytes: request.flavor.disk * 2 ** 30,
        properties,
        personality: request.personality,
        password: request.adminPass,
        log,
      });
      if (firmware === "uefi") {
        await createNvram(paths.nvram, this.#ctx.config.qemu ?? {});
        log(`firmware: UEFI (OVMF), NVRAM ${paths.nvram}`);
      }
    } catch (error) {
      for (const file of [paths.disk, paths.nvram]) await rm(file, { force: true });
      throw error;
    }
    log(`deployed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    this.#ctx.counters.add("compute.disksDeployed");
  }

  /** A configured image's file on the host, or the Pithos object a Plankton image is registered on. */
  async #imageBytes(image: BootImage): Promise<AsyncIterable<Buffer>> {
    const configured = this.#ctx.config.images.find((i) => i.id === image.id);
    if (configured) {
      if (!configured.file) throw new Error(`image ${image.id} has no "file" in the devcloud config`);
      return createReadStream(configured.file, { highWaterMark: 1 << 20 });
    }
    const store = this.#ctx.module<ObjectStoreModule>("object-store");
    const object = await store.readObject(image.id);
    if (!object) throw new Error(`the object of image ${image.id} is gone`);
    return object.chunks;
  }

  async powerOn(server: ServerRecord): Promise<void> {
    const paths = this.#paths(server);
    const already = runningQemu(paths);
    if (already) return this.#attach(server, already);
    this.#accel ??= chooseAccel(this.#ctx.config.qemu ?? {});
    const accel = await this.#accel;
    const sshPort = await freePort(server.ports?.ssh);
    const settings = this.#ctx.config.qemu ?? {};
    const argv = qemuArgv(
      {
        binary: settings.binary ?? "qemu-system-x86_64",
        name: `devcloud-vm-${server.id}`,
        accel: accel.accel,
        vcpus: server.vcpus,
        ramMiB: server.ram,
        mac: macAddress(server.id, 0),
        sshPort,
        // A VM deployed from a UEFI image has its NVRAM beside its disk.
        ...(existsSync(paths.nvram) ? { ovmfCode: ovmfFiles(settings).code } : {}),
      },
      paths,
    );
    const firmware = existsSync(paths.nvram) ? "UEFI" : "BIOS";
    consoleLine(
      paths.console,
      `starting QEMU (${accel.accel}: ${accel.why}; ${firmware}), ssh on 127.0.0.1:${sshPort}`,
    );
    const pid = await startQemu(argv, paths);
    server.ports = { ssh: sshPort };
    this.#ctx.counters.add("compute.qemuStarted");
    this.#attach(server, pid);
  }

  #attach(server: ServerRecord, pid: number): void {
    server.process = {
      pid,
      state: "running",
      startedAt: server.process?.pid === pid ? server.process.startedAt : Date.now(),
    };
    clearInterval(this.#watchers.get(server.id));
    const timer = setInterval(() => {
      if (isGroupAlive(pid)) return;
      clearInterval(timer);
      this.#watchers.delete(server.id);
      const proc = server.process;
      if (!proc || proc.pid !== pid || proc.state !== "running") return;
      // The guest powered itself off: Ganeti reports the instance down, Cyclades shows STOPPED.
      proc.state = "exited";
      proc.endedAt = Date.now();
      consoleLine(this.#paths(server).console, `QEMU ${pid} ended: the guest powered off`);
      if (!server.deleted && server.operstate === "STARTED") {
        server.operstate = "STOPPED";
        server.updated = Date.now();
      }
      this.#changed();
    }, 500);
    timer.unref();
    this.#watchers.set(server.id, timer);
  }

  async powerOff(server: ServerRecord): Promise<void> {
    const proc = server.process;
    if (proc?.state !== "running") return;
    proc.state = "stopped";
    const paths = this.#paths(server);
    const grace = (this.#ctx.config.qemu?.powerOffSeconds ?? 30) * 1000;
    const how = await powerOffQemu(proc.pid, paths, grace);
    proc.endedAt = Date.now();
    consoleLine(paths.console, `QEMU ${proc.pid} powered off (${how === "acpi" ? "ACPI" : how})`);
  }

  async kill(server: ServerRecord): Promise<boolean> {
    const proc = server.process;
    if (proc?.state !== "running") return false;
    proc.state = "killed";
    const killed = await killQemu(proc.pid, this.#paths(server));
    this.#ctx.counters.add("compute.qemuKilled");
    return killed;
  }

  /** The disk, its NVRAM and the control files go; the console and QEMU's log stay for inspection. */
  async destroy(server: ServerRecord): Promise<void> {
    const paths = this.#paths(server);
    for (const file of [paths.disk, paths.nvram, paths.pidfile, paths.qmp]) await rm(file, { force: true });
  }

  /**
   * A QEMU of this VM that still runs is taken back (an ACTIVE server) or stopped (a deleted or stopped
   * one); an ACTIVE server whose QEMU is gone (the devcloud was closed) is powered on again.
   */
  async recover(server: ServerRecord): Promise<void> {
    const paths = this.#paths(server);
    const pid = runningQemu(paths);
    const shouldRun = !server.deleted && server.operstate === "STARTED";
    if (pid && shouldRun) {
      consoleLine(paths.console, `devcloud restarted: QEMU ${pid} taken back`);
      this.#attach(server, pid);
      return;
    }
    if (pid) await killQemu(pid, paths);
    if (server.process?.state === "running")
      server.process = { ...server.process, state: "gone", endedAt: Date.now() };
    if (server.deleted) await this.destroy(server);
    else if (shouldRun) await this.powerOn(server);
  }

  describe(server: ServerRecord): Record<string, unknown> {
    const paths = this.#paths(server);
    const uefi = existsSync(paths.nvram);
    return {
      disk: paths.disk,
      firmware: uefi ? "uefi" : "bios",
      nvram: uefi ? paths.nvram : null,
      qmpSocket: paths.qmp,
      qemuLog: paths.log,
      sshPort: server.ports?.ssh ?? null,
    };
  }

  async close(): Promise<void> {
    for (const timer of this.#watchers.values()) clearInterval(timer);
    this.#watchers.clear();
  }
}
