/**
 * @module qemu/qemu-process — one QEMU per VM: its command line, started detached with a pidfile and a QMP
 * socket, found again after a devcloud restart, powered off through ACPI and killed when it does not obey.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { VmPaths } from "../driver.ts";
import { isGroupAlive, signalGroup, waitGone } from "../process/process-group.ts";
import { firmwareArgv } from "./firmware.ts";
import { qmp } from "./qmp.ts";

export interface QemuPaths extends VmPaths {
  disk: string;
  pidfile: string;
  qmp: string;
  /** QEMU's own stdout and stderr. */
  log: string;
  /** A UEFI VM's copy of OVMF's variable store; absent for a BIOS VM. */
  nvram: string;
}

export function qemuPaths(vm: VmPaths): QemuPaths {
  return {
    ...vm,
    disk: join(vm.dir, "disk.raw"),
    pidfile: join(vm.dir, "qemu.pid"),
    qmp: join(vm.dir, "qmp.sock"),
    log: join(vm.dir, "qemu.log"),
    nvram: join(vm.dir, "OVMF_VARS.fd"),
  };
}

export interface QemuMachine {
  binary: string;
  /** Shown in `ps` and QMP. */
  name: string;
  accel: "kvm" | "tcg";
  vcpus: number;
  ramMiB: number;
  mac: string;
  /** Host port on 127.0.0.1 forwarded to the guest's port 22. */
  sshPort: number;
  /** OVMF's code for a UEFI VM (its NVRAM is `paths.nvram`); SeaBIOS when unset. */
  ovmfCode?: string;
}

/**
 * The command line: the firmware (SeaBIOS, or OVMF from pflash), virtio disk and NIC, user networking
 * (DHCP, the host at 10.0.2.2) with the SSH port forwarded on 127.0.0.1 only, the first serial port
 * appended to the console file, QMP on a unix socket.
 */
export function qemuArgv(m: QemuMachine, paths: QemuPaths): string[] {
  const accel = m.accel === "tcg" && m.vcpus > 1 ? "tcg,thread=multi" : m.accel;
  return [
    m.binary,
    "-name",
    m.name,
    "-nodefaults",
    "-no-user-config",
    "-accel",
    accel,
    "-smp",
    String(m.vcpus),
    "-m",
    String(m.ramMiB),
    "-display",
    "none",
    "-vga",
    "std",
    ...(m.ovmfCode ? firmwareArgv(m.ovmfCode, paths.nvram) : []),
    "-drive",
    `file=${paths.disk},format=raw,if=virtio,cache=writeback,discard=unmap`,
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${m.sshPort}-:22`,
    "-device",
    `virtio-net-pci,netdev=net0,mac=${m.mac}`,
    "-chardev",
    `file,id=console0,path=${paths.console},append=on`,
    "-serial",
    "chardev:console0",
    "-qmp",
    `unix:${paths.qmp},server=on,wait=off`,
    "-pidfile",
    paths.pidfile,
  ];
}

/**
 * A free TCP port on 127.0.0.1 (asked of the kernel, then released for QEMU to take): `wanted` when it
 * is free (a VM keeps its SSH port across reboots), else any.
 */
export async function freePort(wanted?: number): Promise<number> {
  if (wanted) {
    try {
      return await listenOnce(wanted);
    } catch {
      // Taken meanwhile: any other will do.
    }
  }
  return listenOnce(0);
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Starts QEMU detached (its own process group, so it outlives a crashed devcloud and can be found again)
 * and waits until QMP answers. Rejects with the end of QEMU's log when it exits first.
 */
export async function startQemu(argv: string[], paths: QemuPaths, timeoutMs = 30_000): Promise<number> {
  const [command, ...args] = argv;
  const out = openSync(paths.log, "a");
  let exited: string | undefined;
  try {
    const child = spawn(command as string, args, { detached: true, stdio: ["ignore", out, out] });
    child.unref();
    child.once("error", (error) => (exited = error.message));
    child.once("exit", (code, signal) => (exited = signal ?? `exit code ${code}`));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`QEMU ended at once (${exited}): ${logTail(paths.log)}`);
      try {
        await qmp(paths.qmp, ["query-status"], 2000);
        if (child.pid === undefined) throw new Error("QEMU has no pid");
        return child.pid;
      } catch (error) {
        if (exited) continue;
        if (Date.now() > deadline) {
          if (child.pid) signalGroup(child.pid, "SIGKILL");
          throw new Error(`QEMU's QMP socket did not answer: ${(error as Error).message}`);
        }
        await sleep(100);
      }
    }
  } finally {
    closeSync(out);
  }
}

function logTail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ");
  } catch {
    return "";
  }
}

/** The pid QEMU wrote, if the process still runs QEMU on this VM's disk (pids get reused). */
export function runningQemu(paths: QemuPaths): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(paths.pidfile, "utf8").trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isQemuOf(pid, paths) ? pid : undefined;
}

/** True when `pid` is a live process whose command line boots this VM's disk. */
export function isQemuOf(pid: number, paths: QemuPaths): boolean {
  if (!isGroupAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a) => a.includes(`file=${paths.disk},`));
  } catch {
    return false;
  }
}

/**
 * Powers a VM off: ACPI power button through QMP, then SIGKILL once `graceMs` passed (a guest without
 * acpid/logind never obeys). Resolves once the process is gone; says how it ended.
 */
export async function powerOffQemu(
  pid: number,
  paths: QemuPaths,
  graceMs: number,
): Promise<"acpi" | "killed" | "gone"> {
  if (!isQemuOf(pid, paths)) return "gone";
  try {
    await qmp(paths.qmp, ["system_powerdown"], 2000);
    if (await waitGone(pid, graceMs)) return "acpi";
  } catch {
    // No QMP: nothing left to ask politely.
  }
  signalGroup(pid, "SIGKILL");
  await waitGone(pid, 5000);
  return "killed";
}

/** Kills QEMU at once (a crash of the host). */
export async function killQemu(pid: number, paths: QemuPaths): Promise<boolean> {
  if (!isQemuOf(pid, paths)) return false;
  signalGroup(pid, "SIGKILL");
  await waitGone(pid, 5000);
  return true;
}
