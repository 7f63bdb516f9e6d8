/** @module tests/vm/bootable-raw — a bootable raw disk for tests of the qemu driver itself. */

export interface BootableRaw {
  path: string;
  rootPartition: number;
}

/**
 * `ICAAS_VM_RAW` (a raw disk that boots to a serial login prompt, root on partition
 * `ICAAS_VM_RAW_ROOT`, default 1).
 */
export async function bootableRaw(): Promise<BootableRaw> {
  const path = process.env.ICAAS_VM_RAW;
  if (!path) throw new Error("set ICAAS_VM_RAW to a bootable raw disk");
  return { path, rootPartition: Number(process.env.ICAAS_VM_RAW_ROOT ?? 1) };
}
