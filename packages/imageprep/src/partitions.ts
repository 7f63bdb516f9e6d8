/** @module partitions — reads MBR (with extended/logical) and GPT partition tables through `sfdisk -J`. */
import { ImagePrepError } from "./errors.ts";
import { runTool } from "./run-tool.ts";

/** The label names sfdisk uses; metadata calls `dos` "msdos", as libguestfs does. */
export type PartitionTableLabel = "dos" | "gpt";

/** What a partition's type code says it is meant to hold. */
export type PartitionKind = "extended" | "swap" | "lvm" | "raid" | "efi" | "bios-boot" | "linux" | "other";

export interface Partition {
  /** The number Linux gives it: 1–4 primary/extended, 5+ logical (MBR); 1–128 (GPT). */
  number: number;
  /** First sector. */
  start: number;
  /** Length in sectors. */
  size: number;
  /** Byte offset of the first sector in the image. */
  offset: number;
  /** Length in bytes. */
  bytes: number;
  /** MBR type as hex without 0x (`83`), or the GPT type GUID in upper case. */
  type: string;
  kind: PartitionKind;
  bootable: boolean;
  /** A logical partition inside an MBR extended partition. */
  logical: boolean;
  /** GPT partition GUID. */
  uuid?: string;
  /** GPT partition name. */
  name?: string;
  /** GPT attribute flags as sfdisk prints them. */
  attrs?: string;
}

export interface PartitionTable {
  label: PartitionTableLabel;
  /** MBR disk id (`0x1234abcd`) or GPT disk GUID. */
  id: string;
  sectorSize: number;
  /** GPT only: first and last usable LBA. */
  firstLba?: number;
  lastLba?: number;
  /** Sorted by number. */
  partitions: Partition[];
}

const GPT_KINDS: Record<string, PartitionKind> = {
  "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "swap",
  "E6D6D379-F507-44C2-A23C-238F2A3DF928": "lvm",
  "A19D880F-05FC-4D3B-A006-743F0F84911E": "raid",
  "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "efi",
  "21686148-6449-6E6F-744E-656564454649": "bios-boot",
  "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "linux",
  "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709": "linux",
  "44479540-F297-41B2-9AF7-D131D5F0458A": "linux",
  "B921B045-1DF0-41C3-AF44-4C6F280D3FAE": "linux",
  "933AC7E1-2EB4-4F13-B844-0E14E2AEF915": "linux",
  "3B8F8425-20E0-4F3B-907F-1A25A76F98E8": "linux",
};

const DOS_KINDS: Record<string, PartitionKind> = {
  "5": "extended",
  f: "extended",
  "85": "extended",
  "82": "swap",
  "8e": "lvm",
  fd: "raid",
  ef: "efi",
  "83": "linux",
};

/** What a type code means, for either label. */
export function partitionKind(label: PartitionTableLabel, type: string): PartitionKind {
  if (label === "gpt") return GPT_KINDS[type.toUpperCase()] ?? "other";
  return (
    DOS_KINDS[
      type
        .toLowerCase()
        .replace(/^0x/, "")
        .replace(/^0+(?=.)/, "")
    ] ?? "other"
  );
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    id?: string;
    device: string;
    sectorsize?: number;
    firstlba?: number;
    lastlba?: number;
    partitions?: Array<{
      node: string;
      start: number;
      size: number;
      type: string;
      bootable?: boolean;
      uuid?: string;
      name?: string;
      attrs?: string;
    }>;
  };
}

/** Parses `sfdisk -J` output (exported for tests of odd tables). */
export function parseSfdiskJson(text: string): PartitionTable {
  let json: SfdiskJson;
  try {
    json = JSON.parse(text) as SfdiskJson;
  } catch (e) {
    throw new ImagePrepError("invalid_image", "sfdisk printed a partition table that is not JSON", {
      cause: e,
    });
  }
  const pt = json.partitiontable;
  if (pt.label !== "dos" && pt.label !== "gpt") {
    throw new ImagePrepError(
      "unsupported_image",
      `the partition table is "${pt.label}" (only MBR and GPT are supported)`,
    );
  }
  const label: PartitionTableLabel = pt.label;
  const sectorSize = pt.sectorsize ?? 512;
  const partitions: Partition[] = (pt.partitions ?? []).map((p) => {
    const m = /(\d+)$/.exec(p.node.slice(pt.device.length)) ?? /(\d+)$/.exec(p.node);
    if (!m) throw new ImagePrepError("invalid_image", `cannot tell the number of partition ${p.node}`);
    const number = Number(m[1]);
    const part: Partition = {
      number,
      start: p.start,
      size: p.size,
      offset: p.start * sectorSize,
      bytes: p.size * sectorSize,
      type: label === "gpt" ? p.type.toUpperCase() : p.type.toLowerCase(),
      kind: partitionKind(label, p.type),
      bootable: p.bootable === true,
      logical: label === "dos" && number > 4,
    };
    if (p.uuid !== undefined) part.uuid = p.uuid;
    if (p.name !== undefined) part.name = p.name;
    if (p.attrs !== undefined) part.attrs = p.attrs;
    return part;
  });
  partitions.sort((a, b) => a.number - b.number);
  const table: PartitionTable = { label, id: pt.id ?? "", sectorSize, partitions };
  if (pt.firstlba !== undefined) table.firstLba = pt.firstlba;
  if (pt.lastlba !== undefined) table.lastLba = pt.lastlba;
  return table;
}

/**
 * Reads the partition table of a raw disk image; `undefined` when the disk has none.
 *
 * @example
 * const table = await readPartitionTable("disk.raw");
 * for (const p of table?.partitions ?? []) console.log(p.number, p.kind, p.offset);
 */
export async function readPartitionTable(
  image: string,
  signal?: AbortSignal,
): Promise<PartitionTable | undefined> {
  const r = await runTool("sfdisk", ["-J", image], { okCodes: [0, 1], signal });
  if (r.code !== 0) {
    if (/does not contain a recognized partition table/.test(r.stderr)) return undefined;
    throw new ImagePrepError("invalid_image", `sfdisk cannot read ${image}: ${r.stderr.trim()}`, {
      tool: "sfdisk",
    });
  }
  return parseSfdiskJson(r.stdout);
}

/** The partitions that hold data (everything but MBR extended containers). */
export function dataPartitions(table: PartitionTable): Partition[] {
  return table.partitions.filter((p) => p.kind !== "extended");
}

/** The partition that ends last on the disk (extended containers included). */
export function lastPartition(table: PartitionTable): Partition | undefined {
  let last: Partition | undefined;
  for (const p of table.partitions) if (!last || p.start + p.size > last.start + last.size) last = p;
  return last;
}

/** The MBR extended partition that contains `p`, if `p` is logical. */
export function containerOf(table: PartitionTable, p: Partition): Partition | undefined {
  if (!p.logical) return undefined;
  return table.partitions.find(
    (e) => e.kind === "extended" && e.start <= p.start && p.start < e.start + e.size,
  );
}

/** The name metadata uses for the label (`msdos`/`gpt`, as libguestfs and snf-image do). */
export function metadataLabel(label: PartitionTableLabel): string {
  return label === "dos" ? "msdos" : "gpt";
}
