/**
 * @module qemu/deploy — a diskdump deployed as snf-image's helper does for a Linux image: copied sparsely
 * to a disk of the flavor's size, the table fixed (GPT backup header moved), the last partition and its
 * ext filesystem grown (XFS, btrfs and LVM physical volumes keep their size, as snf-image's unmounted
 * resize leaves them), swap made from `SWAP`, then the root filesystem personalised (files, password).
 * An ext root on a partition needs no mount (sfdisk, e2fsck, resize2fs, debugfs on the disk file); XFS,
 * btrfs and roots in LVM are edited through imageprep's loop-device mount backend (root needed).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, open, rm, stat, truncate, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  editGuest,
  isExt,
  type PartitionTable,
  probeFilesystem,
  readPartitionTable,
  runTool,
} from "@icaas/imageprep";
import type { PersonalityEntry } from "../driver.ts";
import { type Extent, parseSwap, planGrow } from "./disk-layout.ts";
import { setPasswords, writePersonality } from "./guest-files.ts";

export interface DeployOptions {
  /** The disk's size in bytes (the flavor's). */
  sizeBytes: number;
  /** The image's properties (`OSFAMILY`, `ROOT_PARTITION`, `USERS`, `SWAP`). */
  properties: Record<string, string>;
  personality: readonly PersonalityEntry[];
  /** Set for every user of `USERS` (default root). */
  password: string;
  /** One line per step, for the VM's console. */
  log?: (line: string) => void;
}

const CHUNK = 1 << 20;
const SFDISK = ["--no-reread", "--no-tell-kernel", "--wipe", "never", "--wipe-partitions", "never", "-q"];
const SWAP_GPT_TYPE = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";

/**
 * Writes `chunks` to a new file at `target`, leaving a hole wherever a whole MiB is zero (what
 * `cp --sparse=always` does), so a 20 GiB disk of a 1 GiB image takes 1 GiB. Returns the bytes written.
 */
export async function writeSparse(target: string, chunks: AsyncIterable<Buffer>): Promise<number> {
  const fh = await open(target, "wx");
  let pos = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (all: boolean) => {
    let buf = Buffer.concat(pending, pendingBytes);
    while (buf.length >= CHUNK || (all && buf.length > 0)) {
      const piece = buf.subarray(0, Math.min(CHUNK, buf.length));
      if (!isZero(piece)) await fh.write(piece, 0, piece.length, pos);
      pos += piece.length;
      buf = buf.subarray(piece.length);
    }
    pending = buf.length > 0 ? [Buffer.from(buf)] : [];
    pendingBytes = buf.length;
  };
  try {
    for await (const chunk of chunks) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK) await flush(false);
    }
    await flush(true);
    await fh.truncate(pos);
  } finally {
    await fh.close();
  }
  return pos;
}

const ZEROS = Buffer.alloc(64 * 1024);

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i += ZEROS.length) {
    const piece = buf.subarray(i, Math.min(buf.length, i + ZEROS.length));
    if (!piece.equals(ZEROS.subarray(0, piece.length))) return false;
  }
  return true;
}

/**
 * Turns the diskdump already copied to `disk` into the VM's disk. Throws an Error naming the step that
 * failed; the caller removes the disk then.
 */
export async function deployDisk(disk: string, options: DeployOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  const family = options.properties.OSFAMILY ?? "linux";
  if (family !== "linux") throw new Error(`OSFAMILY '${family}' cannot be deployed by the devcloud`);
  const imageBytes = (await stat(disk)).size;
  if (imageBytes > options.sizeBytes)
    throw new Error(
      `the image (${imageBytes} bytes) is larger than the flavor's disk (${options.sizeBytes} bytes)`,
    );
  await truncate(disk, options.sizeBytes);
  const table = await readPartitionTable(disk);
  if (!table || table.partitions.length === 0) throw new Error("the image holds no partition table");
  if (table.label === "gpt") {
    // The backup header still sits where the diskdump ended.
    await runTool("sgdisk", ["--move-second-header", disk]);
    log("FixPartitionTable: GPT backup header moved to the end of the disk");
  }
  const swap = parseSwap(options.properties.SWAP);
  const plan = planGrow(table, Math.floor(options.sizeBytes / 512), swap);
  for (const extent of plan.resize) await sfdisk(disk, `,${extent.size}\n`, extent.number);
  if (plan.swap) {
    const type = table.label === "gpt" ? SWAP_GPT_TYPE : "82";
    await sfdisk(disk, `${plan.swap.start},${plan.swap.size},${type}\n`, plan.swap.number);
  }
  await verifyTable(disk, table.label);
  if (plan.grown)
    log(`FixPartitionTable: partition ${plan.grown.number} grown to ${plan.grown.size} sectors`);
  if (plan.grown) await growFilesystem(disk, plan.grown, log);
  const rootProperty = rootPartition(table, options.properties.ROOT_PARTITION);
  const swapUuid = plan.swap ? await makeSwap(disk, plan.swap) : undefined;
  const root = await editGuest(disk, async (fs, inspection) => {
    const found = inspection.root as NonNullable<typeof inspection.root>;
    if (rootProperty !== undefined && found.partition !== rootProperty)
      throw new Error(
        `ROOT_PARTITION is ${rootProperty}, but the root filesystem is on partition ${found.partition}`,
      );
    if (swapUuid) {
      const fstab = (await fs.readText("/etc/fstab")) ?? "";
      const sep = fstab === "" || fstab.endsWith("\n") ? "" : "\n";
      await fs.writeFile("/etc/fstab", `${fstab}${sep}UUID=${swapUuid}\tnone\tswap\tsw\t0\t0\n`);
      log(`AddSwap: partition ${plan.swap?.number} (${swap?.mib} MiB) in /etc/fstab`);
    }
    const users = await setPasswords(fs, options.properties.USERS, options.password);
    log(`ChangePassword: new password for ${users.join(", ")}`);
    const written = await writePersonality(fs, options.personality);
    for (const line of written) log(`EnforcePersonality: ${line}`);
    return found;
  });
  // debugfs leaves the filesystem consistent; a last forced check proves it before the VM mounts it.
  // (A mounted root was unmounted cleanly by the kernel.)
  if (root.backend === "debugfs") await runTool("e2fsck", ["-fn", `${disk}?offset=${root.offset}`]);
}

async function sfdisk(disk: string, script: string, number: number): Promise<void> {
  await runTool("sfdisk", [...SFDISK, "-N", String(number), disk], { input: script });
}

async function verifyTable(disk: string, label: PartitionTable["label"]): Promise<void> {
  if (label === "gpt") {
    const r = await runTool("sgdisk", ["-v", disk], { okCodes: [0, 1, 2, 3, 4] });
    if (!/No problems found/.test(r.stdout))
      throw new Error(`the grown GPT does not verify: ${r.stdout.trim()}`);
  } else {
    const r = await runTool("sfdisk", ["-V", disk], { okCodes: [0, 1] });
    if (r.code !== 0) throw new Error(`the grown MBR does not verify: ${(r.stdout + r.stderr).trim()}`);
  }
}

function rawJson(disk: string, offset: number, size: number): string {
  return `json:${JSON.stringify({ driver: "raw", offset, size, file: { driver: "file", filename: disk } })}`;
}

/**
 * Grows the ext filesystem of the grown partition to fill it. resize2fs on `disk?offset=` would truncate
 * the disk after the filesystem, so it runs on a sparse copy of the partition that is then written back.
 */
async function growFilesystem(disk: string, part: Extent, log: (line: string) => void): Promise<void> {
  const offset = part.start * 512;
  const bytes = part.size * 512;
  const info = await probeFilesystem(disk, offset, bytes);
  if (!isExt(info.type)) {
    log(`FilesystemResizeUnmounted: partition ${part.number} holds ${info.type}, not grown`);
    return;
  }
  const dir = await mkdtemp(join(dirname(disk), ".grow-"));
  const copy = join(dir, "partition.raw");
  try {
    await runTool("qemu-img", ["convert", "-f", "raw", "-O", "raw", rawJson(disk, offset, bytes), copy]);
    await runTool("e2fsck", ["-fy", copy], { okCodes: [0, 1] });
    await runTool("resize2fs", [copy]);
    await runTool("qemu-img", [
      "convert",
      "-n",
      "-f",
      "raw",
      "-O",
      "raw",
      copy,
      rawJson(disk, offset, bytes),
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const grown = await probeFilesystem(disk, offset, bytes);
  log(
    `FilesystemResizeUnmounted: ${info.type} on partition ${part.number}: ${info.blockCount} → ${grown.blockCount} blocks`,
  );
}

/** `mkswap` on the swap partition; only its first page is written (mkswap has no offset option). */
async function makeSwap(disk: string, swap: Extent): Promise<string> {
  const uuid = randomUUID();
  const dir = await mkdtemp(join(dirname(disk), ".swap-"));
  const file = join(dir, "swap");
  try {
    await writeFile(file, "");
    await truncate(file, swap.size * 512);
    await runTool("mkswap", ["-U", uuid, file]);
    const header = Buffer.alloc(4096);
    const src = await open(file, "r");
    try {
      await src.read(header, 0, header.length, 0);
    } finally {
      await src.close();
    }
    const fh = await open(disk, "r+");
    try {
      await fh.write(header, 0, header.length, swap.start * 512);
    } finally {
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return uuid;
}

/** The partition `ROOT_PARTITION` names (checked against the table), if it is set. */
function rootPartition(table: PartitionTable, property: string | undefined): number | undefined {
  if (property === undefined || property.trim() === "") return undefined;
  const found = table.partitions.find((p) => String(p.number) === property.trim());
  if (!found) throw new Error(`ROOT_PARTITION ${property} is not in the partition table`);
  return found.number;
}
