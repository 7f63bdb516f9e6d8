/** @module process/driver — a VM that is a directory plus, for the agent image, the agent as a process group. */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { DevcloudContext } from "../../context.ts";
import { type ComputeDriver, consoleLine, type DeployRequest, vmPaths } from "../driver.ts";
import type { ServerRecord, VmProcess } from "../server-store.ts";
import { cwdOf, groupMembers, killGroup, startGroup, stopGroup } from "./process-group.ts";
import { writeVmDisk } from "./vm-disk.ts";

export class ProcessDriver implements ComputeDriver {
  readonly name = "process";
  readonly #ctx: DevcloudContext;
  /** Saves the server list after a process ended on its own. */
  readonly #changed: () => void;
  #closed = false;

  constructor(ctx: DevcloudContext, changed: () => void) {
    this.#ctx = ctx;
    this.#changed = changed;
  }

  async deploy(server: ServerRecord, request: DeployRequest): Promise<void> {
    writeVmDisk(vmPaths(this.#ctx.dataDir, server.id), request.personality);
  }

  async powerOn(server: ServerRecord): Promise<void> {
    const agent = this.#ctx.config.agent;
    if (!server.agent || !agent || this.#closed) return;
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
      if (!this.#closed) this.#changed();
    });
  }

  /** Stops what is left of a server's process group (the leader may have ended, its children not). */
  async powerOff(server: ServerRecord): Promise<void> {
    const proc = server.process;
    if (!proc || !this.#ownsGroup(server, proc)) return;
    if (proc.state === "running") proc.state = "stopped";
    const grace = (this.#ctx.config.agent?.stopGraceSeconds ?? 3) * 1000;
    await stopGroup(proc.pid, grace);
  }

  async kill(server: ServerRecord): Promise<boolean> {
    const proc = server.process;
    if (!proc || !this.#ownsGroup(server, proc)) return false;
    proc.state = "killed";
    const killed = await killGroup(proc.pid);
    this.#ctx.counters.add("compute.agentsKilled");
    return killed;
  }

  /** The directory is kept for inspection. */
  async destroy(): Promise<void> {}

  /**
   * Processes of an earlier run died with it, so they are marked `gone`; after a crash, those provably
   * this VM's (working inside its root) are stopped.
   */
  async recover(server: ServerRecord): Promise<void> {
    const proc = server.process;
    if (proc?.state !== "running") return;
    const root = vmPaths(this.#ctx.dataDir, server.id).root;
    const members = groupMembers(proc.pid);
    server.process = { ...proc, state: "gone", endedAt: Date.now() };
    if (members.some((pid) => cwdOf(pid)?.startsWith(root) === true)) await killGroup(proc.pid);
  }

  describe(server: ServerRecord): Record<string, unknown> {
    return { rootDir: vmPaths(this.#ctx.dataDir, server.id).root };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #failed(server: ServerRecord, logFile: string, error: unknown): void {
    server.process = { pid: 0, state: "failed", startedAt: Date.now(), endedAt: Date.now() };
    consoleLine(logFile, `cannot start the agent: ${(error as Error).message}`);
    if (!this.#closed) this.#changed();
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
}
