/**
 * @module qemu/accel — KVM or TCG. `/dev/kvm` existing proves little: on some hosts a guest hangs right
 * after its boot loader under KVM. So `auto` boots a real Linux kernel under KVM once and takes KVM only
 * if the kernel gets as far as printing its own boot messages and giving up on a root filesystem.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { QemuSettings } from "../../config.ts";

export interface AccelChoice {
  accel: "kvm" | "tcg";
  why: string;
}

/** What a kernel without a root filesystem prints last: it ran in long mode, with interrupts and timers. */
const KERNEL_REACHED = /VFS: Unable to mount root|Kernel panic - not syncing|Run \/init|No working init/;

export async function chooseAccel(settings: QemuSettings): Promise<AccelChoice> {
  const wanted = settings.accel ?? "tcg";
  if (wanted === "tcg") return { accel: "tcg", why: "configured" };
  if (wanted === "kvm") return { accel: "kvm", why: "configured" };
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return { accel: "tcg", why: "/dev/kvm is not usable" };
  }
  const kernel = settings.probeKernel ?? (await newestKernel());
  if (!kernel) return { accel: "tcg", why: "no kernel to probe KVM with (set qemu.probeKernel)" };
  const seconds = settings.probeSeconds ?? 30;
  const ok = await bootsUnderKvm(settings.binary ?? "qemu-system-x86_64", kernel, seconds * 1000);
  return ok
    ? { accel: "kvm", why: `${kernel} booted under KVM` }
    : { accel: "tcg", why: `${kernel} did not boot under KVM within ${seconds} s` };
}

async function newestKernel(): Promise<string | undefined> {
  try {
    const names = (await readdir("/boot")).filter((n) => n.startsWith("vmlinuz-")).sort();
    const last = names.at(-1);
    return last ? join("/boot", last) : undefined;
  } catch {
    return undefined;
  }
}

/** Boots `kernel` with no disk under KVM and watches its serial console. */
function bootsUnderKvm(binary: string, kernel: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(
      binary,
      [
        ...["-accel", "kvm", "-m", "256", "-nodefaults", "-no-user-config", "-display", "none"],
        ...["-serial", "stdio", "-no-reboot", "-kernel", kernel, "-append", "console=ttyS0 panic=-1"],
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    let seen = "";
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      seen = (seen + chunk.toString("latin1")).slice(-4096);
      if (KERNEL_REACHED.test(seen)) finish(true);
    });
    child.once("error", () => finish(false));
    child.once("exit", () => finish(KERNEL_REACHED.test(seen)));
  });
}
