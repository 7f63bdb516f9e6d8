/**
 * @module lvm-plan — what shrinking an LVM physical volume does to its volume group, decided before
 * anything is written: which layouts can be compacted (one PV, plain linear volumes), where each
 * volume goes, and the metadata text (a `vgcfgbackup` file) rewritten to say so.
 */

/** One logical volume as `lvs -a --segments` reports it. */
export interface PvVolume {
  name: string;
  /** `lv_attr`: its first letter is the volume type (`-` plain, `s` snapshot, `o` origin, `t` thin pool, …). */
  attr: string;
  segments: Array<{ segtype: string; sizePe: number; pvStartPe?: number }>;
}

export interface PvLayout {
  vg: string;
  pvCount: number;
  /** Bytes per extent, and bytes from the start of the PV to extent 0. */
  extentSize: number;
  peStart: number;
  /** Extents on the PV. */
  peCount: number;
  /** Metadata areas on the PV: a second one lies at its end, where the cut would go. */
  mdaCount: number;
  volumes: PvVolume[];
}

/** What happens to one volume. */
export interface PlannedVolume {
  name: string;
  fromPe: number;
  toPe: number;
  extents: number;
  newExtents: number;
  /** `keep`: its bytes stay where they are; `copy`: they move down to `toPe`; `swap`: recreated there (`mkswap`). */
  action: "keep" | "copy" | "swap";
}

export interface LvmPlan {
  volumes: PlannedVolume[];
  /** Extents in use once compacted: the PV is cut after them. */
  usedExtents: number;
}

const VOLUME_TYPES: Record<string, string> = {
  s: "a snapshot",
  S: "an invalid snapshot",
  o: "a snapshot origin",
  O: "a merging snapshot origin",
  t: "a thin pool",
  V: "a thin volume",
  m: "mirrored",
  M: "mirrored",
  r: "a RAID volume",
  R: "a RAID volume",
  C: "a cache volume",
  v: "virtual",
  i: "a mirror or RAID image",
  I: "a mirror or RAID image",
  l: "a mirror log",
  e: "a RAID or pool metadata volume",
  d: "a VDO pool",
};

/** Why this volume group cannot be compacted without device-mapper, or undefined when it can. */
export function refusal(layout: PvLayout): string | undefined {
  if (layout.pvCount !== 1)
    return `volume group ${layout.vg} spans ${layout.pvCount} physical volumes (only one is handled)`;
  if (layout.mdaCount !== 1)
    return `its physical volume has ${layout.mdaCount} metadata areas (only one, at its start, is handled)`;
  for (const v of layout.volumes) {
    const type = v.attr[0] ?? "-";
    if (type !== "-")
      return `LVM volume ${layout.vg}/${v.name} is ${VOLUME_TYPES[type] ?? `of type '${type}'`}`;
    if (v.segments.length !== 1)
      return `LVM volume ${layout.vg}/${v.name} has ${v.segments.length} segments (only one linear segment is handled)`;
    const [s] = v.segments as [PvVolume["segments"][0]];
    if (s.segtype !== "linear" || s.pvStartPe === undefined)
      return `LVM volume ${layout.vg}/${v.name} is ${s.segtype}, not linear`;
  }
  return undefined;
}

/**
 * Packs the volumes down in the order they lie on the PV, so every free extent ends up at its end.
 * `root` keeps its place in that order with `rootExtents` extents; volumes in `swaps` are recreated
 * instead of copied. Call {@link refusal} first: every volume must be one linear segment.
 */
export function planCompaction(
  layout: PvLayout,
  resize: { root?: string; rootExtents?: number; swaps: Set<string> },
): LvmPlan {
  const sorted = [...layout.volumes].sort(
    (a, b) => (a.segments[0]?.pvStartPe ?? 0) - (b.segments[0]?.pvStartPe ?? 0),
  );
  let cursor = 0;
  const volumes: PlannedVolume[] = [];
  for (const v of sorted) {
    const seg = v.segments[0] as PvVolume["segments"][0];
    const fromPe = seg.pvStartPe as number;
    const newExtents = v.name === resize.root ? (resize.rootExtents ?? seg.sizePe) : seg.sizePe;
    const action = resize.swaps.has(v.name) ? "swap" : fromPe === cursor ? "keep" : "copy";
    volumes.push({ name: v.name, fromPe, toPe: cursor, extents: seg.sizePe, newExtents, action });
    cursor += newExtents;
  }
  return { volumes, usedExtents: cursor };
}

/** The index of the `}` closing the block whose `{` is at `open`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  throw new Error("unbalanced braces in the LVM metadata");
}

/** `[start, end)` of the block `name {…}` found after `from` and before `to`. */
function block(text: string, name: string, from: number, to: number): [number, number] {
  const re = new RegExp(`(^|\\n)\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*\\{`, "g");
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m || m.index >= to) throw new Error(`no "${name}" section in the LVM metadata`);
  const open = m.index + m[0].length - 1;
  return [open, closingBrace(text, open) + 1];
}

/**
 * Rewrites a `vgcfgbackup` text so each planned volume's one segment has its new length and place
 * on the PV (`extent_count`, the `stripes` entry); `vgcfgrestore` then writes it. Only metadata.
 */
export function rewriteBackup(text: string, plan: LvmPlan): string {
  const [lvsStart, lvsEnd] = block(text, "logical_volumes", 0, text.length);
  let out = text.slice(lvsStart, lvsEnd);
  for (const v of plan.volumes) {
    const [s, e] = block(out, v.name, 1, out.length);
    const lv = out.slice(s, e);
    const changed = lv
      .replace(/(\bextent_count\s*=\s*)\d+/, `$1${v.newExtents}`)
      .replace(/(\bstripes\s*=\s*\[\s*"[^"]+",\s*)\d+/, `$1${v.toPe}`);
    if (
      !/segment_count\s*=\s*1\b/.test(lv) ||
      (changed === lv && (v.newExtents !== v.extents || v.toPe !== v.fromPe))
    )
      throw new Error(`LVM volume ${v.name}: its metadata is not one segment`);
    out = out.slice(0, s) + changed + out.slice(e);
  }
  return text.slice(0, lvsStart) + out + text.slice(lvsEnd);
}
