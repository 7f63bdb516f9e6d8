/**
 * @module guest-fs/mount/lvm — reads a guest's LVM volume group from its physical volume without
 * touching the host's LVM: a private LVM_SYSTEM_DIR (no host lvm.conf, devices file, metadata
 * backups or archives), `--devices` naming only the guest's loop device, `--readonly` reports.
 *
 * A logical volume made of one linear segment is a plain byte range of its partition, so it is read
 * and mounted like a partition, with no device-mapper and no VG name that could collide with the
 * host's. Other layouts need device-mapper: {@link dmTable} builds their tables under a private name
 * (`icaas-<random>-<lv>`), never the guest's VG name. That path is written but untested here (this
 * host has no device-mapper).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImagePrepError } from "../../errors.ts";
import { runTool } from "../../run-tool.ts";

export interface LvSegment {
  /** First extent of the segment within the LV, and its length in extents. */
  startPe: number;
  sizePe: number;
  segtype: string;
  /** Where its extents lie on the PV (`linear` and one-stripe `striped` only). */
  pvStartPe?: number;
}

export interface LogicalVolume {
  vg: string;
  name: string;
  extentSize: number;
  segments: LvSegment[];
}

export interface VolumeGroup {
  name: string;
  /** Bytes from the start of the PV to its first extent. */
  peStart: number;
  volumes: LogicalVolume[];
}

/** The lvm.conf of the private environment: only `device` is seen; nothing is read from or written to the host's LVM state. */
export function privateLvmConf(device: string): string {
  const re = device.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [
    // hints = "none": no host /run/lvm/hints read or rewritten (vgcfgrestore would mark them stale).
    `devices { use_devicesfile = 0 obtain_device_list_from_udev = 0 hints = "none" filter = [ "a|^${re}$|", "r|.*|" ] }`,
    "activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }",
    "backup { backup = 0 archive = 0 }",
    "global { event_activation = 0 }",
    "",
  ].join("\n");
}

/** The arguments of the read-only reports, restricted to `device`. */
export function reportArgs(kind: "pvs" | "lvs", device: string): string[] {
  const fields =
    kind === "pvs"
      ? "pv_name,pv_uuid,vg_name,pe_start"
      : "vg_name,lv_name,segtype,seg_start_pe,seg_size_pe,seg_pe_ranges,vg_extent_size";
  return [
    "--readonly",
    "--devices",
    device,
    "--reportformat",
    "json",
    ...(kind === "lvs" ? ["--segments"] : []),
    "-o",
    fields,
    "--units",
    "b",
    "--nosuffix",
  ];
}

interface Report<T> {
  report: Array<Record<string, T[]>>;
}

/** Parses `pvs` and `lvs --segments` JSON reports (as lvm2 2.03 prints them) into the volume group. */
export function parseLvmReports(pvsJson: string, lvsJson: string): VolumeGroup | undefined {
  const pvs = (JSON.parse(pvsJson) as Report<Record<string, string>>).report[0]?.pv ?? [];
  const segs = (JSON.parse(lvsJson) as Report<Record<string, string>>).report[0]?.seg ?? [];
  const pv = pvs[0];
  if (!pv?.vg_name) return undefined;
  const byName = new Map<string, LogicalVolume>();
  for (const s of segs) {
    const name = s.lv_name as string;
    let lv = byName.get(name);
    if (!lv) {
      lv = { vg: s.vg_name as string, name, extentSize: Number(s.vg_extent_size), segments: [] };
      byName.set(name, lv);
    }
    const seg: LvSegment = {
      startPe: Number(s.seg_start_pe),
      sizePe: Number(s.seg_size_pe),
      segtype: s.segtype as string,
    };
    // "/dev/loop3:0-2559": one range on this PV; striped and other layouts list several or none.
    const ranges = (s.seg_pe_ranges ?? "").split(/\s+/).filter(Boolean);
    const m = ranges.length === 1 ? /:(\d+)-(\d+)$/.exec(ranges[0] as string) : null;
    if (m && (seg.segtype === "linear" || seg.segtype === "striped")) seg.pvStartPe = Number(m[1]);
    lv.segments.push(seg);
  }
  return { name: pv.vg_name, peStart: Number(pv.pe_start), volumes: [...byName.values()] };
}

/** Where a one-segment linear LV lies within its PV, in bytes; undefined when it needs device-mapper. */
export function linearRange(
  vg: VolumeGroup,
  lv: LogicalVolume,
): { offset: number; bytes: number } | undefined {
  const [seg, ...rest] = lv.segments;
  if (!seg || rest.length > 0 || seg.pvStartPe === undefined) return undefined;
  return { offset: vg.peStart + seg.pvStartPe * lv.extentSize, bytes: seg.sizePe * lv.extentSize };
}

/** A device-mapper table for `lv` on `device` (linear segments only), in 512-byte sectors. */
export function dmTable(vg: VolumeGroup, lv: LogicalVolume, device: string): string {
  const per = lv.extentSize / 512;
  return lv.segments
    .map((s) => {
      if (s.pvStartPe === undefined)
        throw new ImagePrepError("unsupported_image", `LV ${lv.vg}/${lv.name} has a ${s.segtype} segment`);
      return `${s.startPe * per} ${s.sizePe * per} linear ${device} ${vg.peStart / 512 + s.pvStartPe * per}`;
    })
    .join("\n");
}

/** A device-mapper name no host volume group can own (LVM names its devices `<vg>-<lv>`). */
export function privateDmName(lv: LogicalVolume): string {
  return `icaas-${randomBytes(6).toString("hex")}-${lv.name.replace(/[^A-Za-z0-9_.+-]/g, "_")}`;
}

/**
 * Reads the volume group on `device` (a loop device over the PV partition) in a private LVM
 * environment that is removed again. Undefined when the PV belongs to no VG.
 */
export async function readVolumeGroup(device: string): Promise<VolumeGroup | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "icaas-lvm-"));
  try {
    await writeFile(join(dir, "lvm.conf"), privateLvmConf(device));
    const env = { LVM_SYSTEM_DIR: dir, LVM_SUPPRESS_FD_WARNINGS: "1" };
    const pvs = await runTool("pvs", reportArgs("pvs", device), { env });
    const lvs = await runTool("lvs", reportArgs("lvs", device), { env });
    return parseLvmReports(pvs.stdout, lvs.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
