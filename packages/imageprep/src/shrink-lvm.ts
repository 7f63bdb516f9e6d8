/**
 * @module shrink-lvm — shrinks an LVM physical volume partition without device-mapper: the root
 * volume's ext filesystem is shrunk on its byte range, the volumes after it are moved down (a swap
 * volume recreated, any other copied), the new layout is written as metadata only (`vgcfgrestore`)
 * and the PV cut after its last used extent (`pvresize`). Every LVM command runs in a private
 * LVM_SYSTEM_DIR that sees only a loop device over this partition, so the host's volume groups are
 * never read, written or collided with; nothing is activated.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ImagePrepError } from "./errors.ts";
import { type FilesystemInfo, isExt, probeFilesystem } from "./fs-probe.ts";
import { withExtFs } from "./guest-fs/debugfs/debugfs-fs.ts";
import { CleanupStack } from "./guest-fs/mount/cleanup.ts";
import { attachLoop } from "./guest-fs/mount/loop.ts";
import { privateLvmConf } from "./guest-fs/mount/lvm.ts";
import { type LvmPlan, type PvLayout, planCompaction, refusal, rewriteBackup } from "./lvm-plan.ts";
import type { Partition } from "./partitions.ts";
import { runTool } from "./run-tool.ts";
import { type ExtShrinkOptions, readRange, shrinkExtFilesystem, workDir, writeRange } from "./shrink-ext.ts";

export interface LvmShrinkResult {
  /** The PV's new size in bytes: the partition is cut to it. */
  bytes: number;
  /** Why the root volume's filesystem was not shrunk (or nothing was cut), when it was not. */
  skipped?: string;
}

interface Report<T> {
  report: Array<Record<string, T[]>>;
}

type Env = Record<string, string>;

async function lvmJson(cmd: string, args: string[], env: Env): Promise<Array<Record<string, string>>> {
  const r = await runTool(cmd, [...args, "--reportformat", "json", "--units", "b", "--nosuffix"], { env });
  const rows = (JSON.parse(r.stdout) as Report<Record<string, string>>).report[0] ?? {};
  return Object.values(rows)[0] ?? [];
}

/** Reads the VG on `device` (every volume, hidden ones too) through the private environment. */
async function readLayout(device: string, env: Env): Promise<PvLayout | undefined> {
  // A VG spanning several PVs lists the others too, as "[unknown]" (the filter hides them).
  const pv = (
    await lvmJson(
      "pvs",
      [
        "--readonly",
        "--devices",
        device,
        "-o",
        "pv_name,vg_name,pe_start,pv_pe_count,pv_mda_count,vg_extent_size",
      ],
      env,
    )
  ).find((row) => row.pv_name === device);
  if (!pv?.vg_name) return undefined;
  const [vg] = await lvmJson("vgs", ["--readonly", "--devices", device, "-o", "pv_count", pv.vg_name], env);
  const segs = await lvmJson(
    "lvs",
    [
      "--readonly",
      "--devices",
      device,
      "-a",
      "--segments",
      "-o",
      "lv_name,lv_attr,segtype,seg_size_pe,seg_pe_ranges",
      pv.vg_name,
    ],
    env,
  );
  const volumes = new Map<string, PvLayout["volumes"][0]>();
  for (const s of segs) {
    const name = s.lv_name as string;
    const v = volumes.get(name) ?? { name, attr: s.lv_attr ?? "", segments: [] };
    volumes.set(name, v);
    const ranges = (s.seg_pe_ranges ?? "").split(/\s+/).filter(Boolean);
    const m = ranges.length === 1 ? /:(\d+)-(\d+)$/.exec(ranges[0] as string) : null;
    const seg: PvLayout["volumes"][0]["segments"][0] = {
      segtype: s.segtype as string,
      sizePe: Number(s.seg_size_pe),
    };
    if (m) seg.pvStartPe = Number(m[1]);
    v.segments.push(seg);
  }
  return {
    vg: pv.vg_name,
    pvCount: Number(vg?.pv_count ?? 0),
    extentSize: Number(pv.vg_extent_size),
    peStart: Number(pv.pe_start),
    peCount: Number(pv.pv_pe_count),
    mdaCount: Number(pv.pv_mda_count),
    volumes: [...volumes.values()],
  };
}

/**
 * Fails when something (device-mapper: the host's LVM auto-activating the guest's VG on the new loop
 * device, as udev's 69-lvm.rules does where lvm2 runs with event activation) holds `device`: its
 * volumes must not be active while their bytes move.
 */
async function assertNotHeld(device: string): Promise<void> {
  const holders = await readdir(`/sys/block/${basename(device)}/holders`).catch(() => []);
  if (holders.length > 0)
    throw new ImagePrepError(
      "tool_failed",
      `${device} is held by ${holders.join(", ")}: the host activated the guest's volume group (disable LVM auto-activation on this host: lvm.conf activation/auto_activation_volume_list = [])`,
      { tool: "lvm" },
    );
}

/** Recreates a swap area over `[offset, offset+bytes)`: all zeros (holes) but mkswap's header, same UUID and label. */
async function recreateSwap(
  image: string,
  offset: number,
  bytes: number,
  ids: { uuid?: string; label?: string },
  dir: string,
  signal?: AbortSignal,
): Promise<void> {
  const file = join(dir, "swap.raw");
  await runTool("truncate", ["-s", String(bytes), file], { signal });
  const args = ["-q"];
  if (ids.uuid) args.push("-U", ids.uuid);
  if (ids.label) args.push("-L", ids.label);
  await runTool("mkswap", [...args, file], { signal });
  await writeRange(file, image, offset, bytes, signal);
  await rm(file, { force: true });
}

/** Moves each volume's bytes as the plan says, lowest first (each destination lies below its source). */
async function moveVolumes(
  image: string,
  pvOffset: number,
  layout: PvLayout,
  plan: LvmPlan,
  swapIds: Map<string, { uuid?: string; label?: string }>,
  options: ExtShrinkOptions,
): Promise<void> {
  const log = options.log ?? (() => undefined);
  const at = (pe: number) => pvOffset + layout.peStart + pe * layout.extentSize;
  const dir = await workDir(image, options.tmpDir);
  try {
    for (const v of plan.volumes) {
      options.signal?.throwIfAborted();
      const bytes = v.newExtents * layout.extentSize;
      if (v.action === "swap") {
        await recreateSwap(image, at(v.toPe), bytes, swapIds.get(v.name) ?? {}, dir, options.signal);
        log(`shrink: LVM swap volume ${layout.vg}/${v.name} recreated at extent ${v.toPe} (was ${v.fromPe})`);
      } else if (v.action === "copy") {
        // Through a file: the ranges may overlap, and the copy keeps holes as holes.
        const file = join(dir, "volume.raw");
        await readRange(image, at(v.fromPe), bytes, file, options.signal);
        await writeRange(file, image, at(v.toPe), bytes, options.signal);
        await rm(file, { force: true });
        log(`shrink: LVM volume ${layout.vg}/${v.name} moved from extent ${v.fromPe} to ${v.toPe}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A volume of the VG, where its bytes are and what filesystem they hold (probed once). */
interface ProbedVolume {
  name: string;
  offset: number;
  bytes: number;
  fs: FilesystemInfo;
}

/** The ext volume holding /etc/fstab, if one does. */
async function findExtRoot(image: string, volumes: ProbedVolume[]): Promise<ProbedVolume | undefined> {
  for (const v of volumes) {
    if (isExt(v.fs.type) && (await withExtFs(image, v.offset, (fs) => fs.isFile("/etc/fstab")))) return v;
  }
  return undefined;
}

/**
 * Shrinks the LVM PV on partition `p`: the ext root volume to its minimum plus `extra` bytes (whole
 * extents), the volumes after it moved down, the PV cut after the last used extent. An XFS root (or
 * none) keeps its size and only free extents are cut. A layout this cannot rewrite without
 * device-mapper (several PVs, snapshots, thin, mirrors, RAID, several segments) is left untouched,
 * and `skipped` says why. Loop devices and the private LVM directory are always removed.
 */
export async function shrinkLvmPv(
  image: string,
  p: Partition,
  extra: number,
  options: ExtShrinkOptions,
): Promise<LvmShrinkResult> {
  const { signal } = options;
  const log = options.log ?? (() => undefined);
  const cleanup = new CleanupStack();
  try {
    const device = await attachLoop(cleanup, image, p.offset, p.bytes, false);
    const conf = await mkdtemp(join(tmpdir(), "icaas-lvm-"));
    cleanup.push(`remove ${conf}`, () => rm(conf, { recursive: true, force: true }));
    await writeFile(join(conf, "lvm.conf"), privateLvmConf(device));
    const env: Env = { LVM_SYSTEM_DIR: conf, LVM_SUPPRESS_FD_WARNINGS: "1" };

    const layout = await readLayout(device, env);
    if (!layout)
      return {
        bytes: p.bytes,
        skipped: `partition ${p.number} is an LVM physical volume in no volume group`,
      };
    const refused = refusal(layout);
    if (refused) return { bytes: p.bytes, skipped: `LVM on partition ${p.number} is not shrunk: ${refused}` };

    let skipped: string | undefined;
    const resize: { root?: string; rootExtents?: number; swaps: Set<string> } = { swaps: new Set() };
    const swapIds = new Map<string, { uuid?: string; label?: string }>();
    const xfs: string[] = [];
    // One linear segment each (refusal() saw to it): probed once, for swap, XFS and the root.
    const probed: ProbedVolume[] = [];
    for (const v of layout.volumes) {
      const seg = v.segments[0] as { pvStartPe: number; sizePe: number };
      const offset = p.offset + layout.peStart + seg.pvStartPe * layout.extentSize;
      const bytes = seg.sizePe * layout.extentSize;
      const fs = await probeFilesystem(image, offset, bytes);
      probed.push({ name: v.name, offset, bytes, fs });
      if (fs.type === "xfs") xfs.push(`${layout.vg}/${v.name}`);
      if (fs.type === "swap") {
        resize.swaps.add(v.name);
        const ids: { uuid?: string; label?: string } = {};
        if (fs.uuid) ids.uuid = fs.uuid;
        if (fs.label) ids.label = fs.label;
        swapIds.set(v.name, ids);
      }
    }
    await assertNotHeld(device);
    const root = await findExtRoot(image, probed);
    if (root) {
      const name = `LVM volume ${layout.vg}/${root.name}`;
      const range = { name, offset: root.offset, bytes: root.bytes };
      const resized = await shrinkExtFilesystem(image, range, root.fs, extra, options);
      const fsBytes = resized.blocks * resized.blockSize;
      resize.root = root.name;
      resize.rootExtents = Math.ceil(fsBytes / layout.extentSize);
      // The volume's tail past the filesystem still holds what resize2fs moved away: zeros (holes).
      const tail = resize.rootExtents * layout.extentSize - fsBytes;
      if (tail > 0) {
        await runTool(
          "fallocate",
          ["--punch-hole", "--offset", String(root.offset + fsBytes), "--length", String(tail), image],
          { signal },
        );
      }
    } else {
      skipped =
        xfs.length > 0
          ? `XFS cannot shrink: LVM volume ${xfs.join(", ")} keeps its size, only the free extents of the physical volume on partition ${p.number} are cut`
          : `no ext root filesystem in volume group ${layout.vg}: only the free extents of the physical volume on partition ${p.number} are cut`;
    }

    const plan = planCompaction(layout, resize);
    if (plan.usedExtents === layout.peCount) {
      return { bytes: p.bytes, skipped: skipped ?? `volume group ${layout.vg} has no free extents to cut` };
    }
    await assertNotHeld(device);
    await moveVolumes(image, p.offset, layout, plan, swapIds, options);

    signal?.throwIfAborted();
    const backup = join(conf, "vg.txt");
    await runTool("vgcfgbackup", ["-f", backup, layout.vg], { env });
    await writeFile(backup, rewriteBackup(await readFile(backup, "utf8"), plan, layout.vg));
    // Metadata only; it warns that without device-mapper it cannot check for active volumes.
    await runTool("vgcfgrestore", ["-f", backup, layout.vg], { env });
    const bytes = layout.peStart + plan.usedExtents * layout.extentSize;
    await runTool("pvresize", ["-y", "--setphysicalvolumesize", `${bytes / 512}s`, device], { env });
    await runTool("vgck", [layout.vg], { env });
    const after = await readLayout(device, env);
    if (after?.peCount !== plan.usedExtents)
      throw new ImagePrepError(
        "tool_failed",
        `pvresize left ${after?.peCount} extents on the PV, not ${plan.usedExtents}`,
        { tool: "pvresize" },
      );
    log(
      `shrink: LVM physical volume on partition ${p.number}: ${layout.peCount} → ${plan.usedExtents} extents of ${layout.extentSize} bytes`,
    );
    const result: LvmShrinkResult = { bytes };
    if (skipped) result.skipped = skipped;
    return result;
  } finally {
    await cleanup.unwind();
  }
}
