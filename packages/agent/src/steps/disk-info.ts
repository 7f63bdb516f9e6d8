/** @module steps/disk-info — what inspection learns about a disk file and conversion relies on. */

export interface DiskInfo {
  path: string;
  /** qemu's driver name: raw, qcow2, vmdk, vpc, vhdx, vdi, qed. */
  format: string;
  virtualSize: number;
  actualSize: number;
  /** How qemu-img must open the file (always an explicit driver, never a probe). */
  openArgs: string[];
  /** e.g. VMDK `streamOptimized`, VHD `fixed`. */
  subformat?: string;
}
