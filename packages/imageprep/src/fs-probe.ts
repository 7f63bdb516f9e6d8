/** @module fs-probe — tells which filesystem (or swap, LVM, …) a region of a disk image holds, from its magic bytes. */
import { open } from "node:fs/promises";

export type FilesystemType =
  | "ext2"
  | "ext3"
  | "ext4"
  | "swap"
  | "lvm2"
  | "xfs"
  | "btrfs"
  | "vfat"
  | "ntfs"
  | "luks"
  | "unknown";

export interface FilesystemInfo {
  type: FilesystemType;
  uuid?: string;
  label?: string;
  /** ext only: block size in bytes and block count. */
  blockSize?: number;
  blockCount?: number;
  /** ext only: false when the journal needs replaying or the fs was not cleanly unmounted or has errors. */
  clean?: boolean;
}

/** True for ext2, ext3 and ext4: the filesystems the debugfs backend edits without a mount. */
export function isExt(type: FilesystemType | undefined): boolean {
  return type === "ext2" || type === "ext3" || type === "ext4";
}

const PROBE_BYTES = 65536 + 4096;

function uuidString(b: Buffer): string | undefined {
  if (b.every((x) => x === 0)) return undefined;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function cString(b: Buffer): string | undefined {
  const end = b.indexOf(0);
  const s = b
    .subarray(0, end < 0 ? b.length : end)
    .toString("utf8")
    .trim();
  return s === "" ? undefined : s;
}

/** `info` with the UUID and the label found at these byte ranges of `buf`, each only when set. */
function withIds(
  info: FilesystemInfo,
  buf: Buffer,
  uuid: [number, number],
  label: [number, number],
): FilesystemInfo {
  const u = uuidString(buf.subarray(...uuid));
  if (u) info.uuid = u;
  const l = cString(buf.subarray(...label));
  if (l) info.label = l;
  return info;
}

function probeExt(buf: Buffer): FilesystemInfo | undefined {
  const sb = buf.subarray(1024, 2048);
  if (sb.length < 1024 || sb.readUInt16LE(0x38) !== 0xef53) return undefined;
  const compat = sb.readUInt32LE(0x5c);
  const incompat = sb.readUInt32LE(0x60);
  const roCompat = sb.readUInt32LE(0x64);
  // Features that ext3 drivers lack: extents, 64bit, flex_bg, mmp, csum_seed, inline_data, …
  const ext4Incompat = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000;
  const ext4RoCompat = 0x8 | 0x10 | 0x20 | 0x40 | 0x400;
  let type: FilesystemType = "ext2";
  if (incompat & ext4Incompat || roCompat & ext4RoCompat) type = "ext4";
  else if (compat & 0x4) type = "ext3";
  const blockSize = 1024 << sb.readUInt32LE(0x18);
  let blockCount = sb.readUInt32LE(0x4);
  if (incompat & 0x80) blockCount += sb.readUInt32LE(0x150) * 2 ** 32;
  const state = sb.readUInt16LE(0x3a);
  const needsRecovery = (incompat & 0x4) !== 0;
  const info: FilesystemInfo = {
    type,
    blockSize,
    blockCount,
    clean: (state & 1) === 1 && (state & 2) === 0 && !needsRecovery,
  };
  return withIds(info, sb, [0x68, 0x78], [0x78, 0x88]);
}

function probeSwap(buf: Buffer): FilesystemInfo | undefined {
  for (const page of [4096, 8192, 16384, 65536]) {
    if (buf.length < page) break;
    const magic = buf.subarray(page - 10, page).toString("latin1");
    if (magic === "SWAPSPACE2" || magic === "SWAP-SPACE") {
      return withIds({ type: "swap" }, buf, [1036, 1052], [1052, 1068]);
    }
  }
  return undefined;
}

/** Identifies the filesystem in `buf`, the first bytes (≥ 68 KiB for btrfs) of a partition. */
export function probeBuffer(buf: Buffer): FilesystemInfo {
  const ext = probeExt(buf);
  if (ext) return ext;
  const swap = probeSwap(buf);
  if (swap) return swap;
  for (let s = 0; s < 4; s++) {
    const at = s * 512;
    if (
      buf.subarray(at, at + 8).toString("latin1") === "LABELONE" &&
      buf.subarray(at + 24, at + 28).toString("latin1") === "LVM2"
    ) {
      return { type: "lvm2" };
    }
  }
  if (buf.subarray(0, 4).toString("latin1") === "XFSB") {
    return withIds({ type: "xfs" }, buf, [32, 48], [108, 120]);
  }
  const btrfs = 65536;
  if (buf.subarray(btrfs + 64, btrfs + 72).toString("latin1") === "_BHRfS_M") {
    return withIds(
      { type: "btrfs" },
      buf,
      [btrfs + 0x20, btrfs + 0x30],
      [btrfs + 0x12b, btrfs + 0x12b + 256],
    );
  }
  if (buf.subarray(0, 6).toString("latin1") === "LUKS\xba\xbe") return { type: "luks" };
  if (buf.subarray(3, 11).toString("latin1") === "NTFS    ") return { type: "ntfs" };
  if (buf.length >= 512 && buf[510] === 0x55 && buf[511] === 0xaa) {
    const fat32 = buf.subarray(82, 90).toString("latin1").startsWith("FAT32");
    const fat16 = buf.subarray(54, 62).toString("latin1").startsWith("FAT1");
    if (fat32 || fat16) {
      const id = buf.readUInt32LE(fat32 ? 67 : 39);
      const hex = id.toString(16).toUpperCase().padStart(8, "0");
      return { type: "vfat", uuid: `${hex.slice(0, 4)}-${hex.slice(4)}` };
    }
  }
  return { type: "unknown" };
}

/**
 * Reads the start of the region `[offset, offset+length)` of `image` and identifies its filesystem.
 *
 * @example
 * const fs = await probeFilesystem("disk.raw", 1048576, 100 << 20); // { type: "ext4", uuid: "…", … }
 */
export async function probeFilesystem(
  image: string,
  offset: number,
  length: number,
): Promise<FilesystemInfo> {
  const fh = await open(image, "r");
  try {
    const want = Math.min(PROBE_BYTES, length);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await fh.read(buf, 0, want, offset);
    return probeBuffer(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
