/**
 * @module qemu/firmware — which firmware boots a VM: SeaBIOS (QEMU's default), or UEFI (Debian's OVMF)
 * for an image whose `FIRMWARE` property is `uefi`. The firmware is the image's: a disk whose only boot
 * loader is on an EFI system partition cannot boot under BIOS, so the image says what it needs, as an
 * OpenStack image says `hw_firmware_type=uefi` (Synnefo 0.16 itself boots everything with BIOS).
 *
 * A UEFI VM gets its own copy of OVMF's variable store (its NVRAM: boot entries the guest writes
 * survive reboots and devcloud restarts), made at deployment and removed with the VM's disk; the code
 * is shared and mapped read-only.
 */
import { copyFile } from "node:fs/promises";
import type { QemuSettings } from "../../config.ts";

export type Firmware = "bios" | "uefi";

/** OVMF as Debian's `ovmf` package installs it (the 4 MiB build: what its firmware descriptors name). */
export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/** The `FIRMWARE` image property: `bios` (also when unset) or `uefi`, in any case; anything else is an error. */
export function firmwareOf(properties: Record<string, string>): Firmware {
  const value = (properties.FIRMWARE ?? "").trim().toLowerCase();
  if (value === "" || value === "bios") return "bios";
  if (value === "uefi") return "uefi";
  throw new Error(`FIRMWARE property '${properties.FIRMWARE}' is not valid (bios or uefi)`);
}

/** The OVMF files the settings name, else Debian's. */
export function ovmfFiles(settings: QemuSettings): { code: string; vars: string } {
  return { code: settings.ovmfCode ?? OVMF_CODE, vars: settings.ovmfVars ?? OVMF_VARS };
}

/** A new VM's NVRAM: a copy of the pristine variable store (no boot entries: OVMF boots the removable path). */
export async function createNvram(nvram: string, settings: QemuSettings): Promise<void> {
  const { vars } = ovmfFiles(settings);
  try {
    await copyFile(vars, nvram);
  } catch (error) {
    throw new Error(`UEFI variable store ${vars}: ${(error as Error).message} (install Debian's ovmf)`);
  }
}

/** QEMU's options for OVMF: the code read-only in the first flash device, the VM's NVRAM in the second. */
export function firmwareArgv(code: string, nvram: string): string[] {
  return [
    "-drive",
    `if=pflash,format=raw,unit=0,readonly=on,file=${code}`,
    "-drive",
    `if=pflash,format=raw,unit=1,file=${nvram}`,
  ];
}
