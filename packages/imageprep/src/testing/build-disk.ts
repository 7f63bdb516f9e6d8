/** @module testing/build-disk — builds raw disk images (MBR or GPT) with ext, swap and fake foreign partitions. */

import { randomBytes } from "node:crypto";
import { lstat, open, readdir, readlink, truncate as truncateFile } from "node:fs/promises";
import { join } from "node:path";
import { runTool } from "../run-tool.ts";
import { buildFilesystem, type FsBuild } from "./build-fs.ts";

export type TestFs = "ext2" | "ext3" | "ext4" | "swap" | "lvm" | "xfs" | "btrfs" | "none";

export interface PartitionSpec {
  sizeMiB: number;
  fs: TestFs;
  /** A host directory copied in (`mkfs -d` for ext; a kernel mount and `cp -a` for XFS and btrfs). */
  tree?: string;
  /** filesystem UUID and label (every filesystem), btrfs subvolumes (see {@link FsBuild}). */
  uuid?: string;
  label?: string;
  subvolumes?: FsBuild["subvolumes"];
  defaultSubvolume?: string;
  /**
   * ext only: how `tree` gets in: `mkfs` (`mkfs -d`, the default) or `copy` (an empty mkfs, then
   * debugfs mkdir/write/symlink one entry at a time, as a file-by-file copy fills a filesystem).
   */
  populate?: "mkfs" | "copy";
  /** ext only (default 4096). */
  blockSize?: 1024 | 4096;
  /** ext only: `mkfs -O` feature list, e.g. `^metadata_csum,^64bit` for an older-looking filesystem. */
  features?: string;
  bootable?: boolean;
  /** MBR only: put it inside an extended partition (all logical partitions must come last). */
  logical?: boolean;
  /** Type code override (MBR hex or GPT GUID). */
  type?: string;
  /** GPT partition name. */
  name?: string;
}

export interface DiskSpec {
  label: "dos" | "gpt";
  sizeMiB: number;
  partitions: PartitionSpec[];
}

export interface BuiltPartition {
  number: number;
  offset: number;
  bytes: number;
  fs: TestFs;
}

export interface BuiltDisk {
  path: string;
  label: "dos" | "gpt";
  size: number;
  partitions: BuiltPartition[];
}

const MiB = 1 << 20;
const SECTORS_PER_MiB = 2048;

const DOS_TYPES: Record<TestFs, string> = {
  ext2: "83",
  ext3: "83",
  ext4: "83",
  xfs: "83",
  btrfs: "83",
  none: "83",
  swap: "82",
  lvm: "8e",
};

const GPT_TYPES: Record<TestFs, string> = {
  ext2: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  ext3: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  ext4: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  xfs: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  btrfs: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  none: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  swap: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
  lvm: "E6D6D379-F507-44C2-A23C-238F2A3DF928",
};

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, "r+");
  try {
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
}

/** A Linux swap header (version 1, 4 KiB pages) with a random UUID, as mkswap writes it. */
function swapHeader(bytes: number): Buffer {
  const page = Buffer.alloc(4096);
  page.writeUInt32LE(1, 1024);
  page.writeUInt32LE(Math.floor(bytes / 4096) - 1, 1028);
  randomBytes(16).copy(page, 1036);
  page.write("SWAPSPACE2", 4086, "latin1");
  return page;
}

/** Enough of an LVM2 physical volume label for a probe to recognise it. */
function lvmLabel(): Buffer {
  const b = Buffer.alloc(1024);
  b.write("LABELONE", 512, "latin1");
  b.write("LVM2 001", 512 + 24, "latin1");
  return b;
}

function q(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Copies a host tree into an ext filesystem with debugfs, parents before children. */
async function copyTree(tree: string, spec: string): Promise<void> {
  const cmds: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(tree, rel))).sort()) {
      const guest = `${rel}/${name}`;
      const host = join(tree, guest);
      const st = await lstat(host);
      if (st.isSymbolicLink()) cmds.push(`symlink ${q(guest)} ${q(await readlink(host))}`);
      else if (st.isDirectory()) {
        cmds.push(`mkdir ${q(guest)}`);
        await walk(guest);
      } else cmds.push(`write ${q(host)} ${q(guest)}`);
    }
  };
  await walk("");
  await runTool("debugfs", ["-w", "-f", "-", spec], { input: `${cmds.join("\n")}\n` });
}

/**
 * Writes a raw disk image: the partition table through sfdisk, ext filesystems through
 * `mkfs -d` straight into their partition, real XFS and btrfs (through a loop device and a mount),
 * swap headers, and magic bytes for LVM.
 *
 * @example
 * await buildDisk("disk.raw", { label: "gpt", sizeMiB: 64, partitions: [{ sizeMiB: 40, fs: "ext4", tree: dir }] });
 */
export async function buildDisk(path: string, spec: DiskSpec): Promise<BuiltDisk> {
  const lines: string[] = [`label: ${spec.label}`];
  const built: BuiltPartition[] = [];
  let cursor = SECTORS_PER_MiB;
  const primaries = spec.partitions.filter((p) => !p.logical);
  const logicals = spec.partitions.filter((p) => p.logical);
  if (spec.label === "gpt" && logicals.length > 0) throw new Error("GPT has no logical partitions");
  let number = 0;
  for (const p of primaries) {
    number += 1;
    const start = cursor;
    const size = p.sizeMiB * SECTORS_PER_MiB;
    const type = p.type ?? (spec.label === "gpt" ? GPT_TYPES[p.fs] : DOS_TYPES[p.fs]);
    let line = `start=${start},size=${size},type=${type}`;
    if (p.bootable && spec.label === "dos") line += ",bootable";
    if (p.name && spec.label === "gpt") line += `,name="${p.name}"`;
    lines.push(line);
    built.push({ number, offset: start * 512, bytes: size * 512, fs: p.fs });
    cursor += size;
  }
  if (logicals.length > 0) {
    number += 1;
    const extSize = spec.sizeMiB * SECTORS_PER_MiB - cursor;
    lines.push(`start=${cursor},size=${extSize},type=5`);
    let logical = 4;
    for (const p of logicals) {
      // Each logical partition is preceded by its extended boot record, one MiB before it.
      cursor += SECTORS_PER_MiB;
      logical += 1;
      const size = p.sizeMiB * SECTORS_PER_MiB;
      lines.push(`start=${cursor},size=${size},type=${p.type ?? DOS_TYPES[p.fs]}`);
      built.push({ number: logical, offset: cursor * 512, bytes: size * 512, fs: p.fs });
      cursor += size;
    }
  }
  const reserve = spec.label === "gpt" ? SECTORS_PER_MiB : 0;
  if (cursor + reserve > spec.sizeMiB * SECTORS_PER_MiB) throw new Error("partitions do not fit on the disk");
  await (await open(path, "w")).close();
  await truncateFile(path, spec.sizeMiB * MiB);
  await runTool("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", "--wipe", "never", path], {
    input: `${lines.join("\n")}\n`,
  });
  const all = [...primaries, ...logicals];
  for (const [i, p] of all.entries()) {
    const b = built[i] as BuiltPartition;
    if (p.fs === "ext2" || p.fs === "ext3" || p.fs === "ext4") {
      const args = [
        "-q",
        "-F",
        "-t",
        p.fs,
        "-b",
        String(p.blockSize ?? 4096),
        "-E",
        `offset=${b.offset},nodiscard`,
      ];
      if (p.features) args.push("-O", p.features);
      if (p.uuid) args.push("-U", p.uuid);
      if (p.label) args.push("-L", p.label);
      const copy = p.tree !== undefined && p.populate === "copy";
      if (p.tree && !copy) args.push("-d", p.tree);
      args.push(path, `${b.bytes / 1024}k`);
      await runTool("mkfs.ext4", args);
      if (copy) await copyTree(p.tree as string, `${path}?offset=${b.offset}`);
    } else if (p.fs === "swap") {
      await writeAt(path, b.offset, swapHeader(b.bytes));
    } else if (p.fs === "lvm") {
      await writeAt(path, b.offset, lvmLabel());
    } else if (p.fs === "xfs" || p.fs === "btrfs") {
      const fs: FsBuild = { type: p.fs };
      for (const k of ["tree", "uuid", "label", "subvolumes", "defaultSubvolume"] as const) {
        if (p[k] !== undefined) Object.assign(fs, { [k]: p[k] });
      }
      await buildFilesystem(path, b.offset, b.bytes, fs);
    }
  }
  return { path, label: spec.label, size: spec.sizeMiB * MiB, partitions: built };
}
