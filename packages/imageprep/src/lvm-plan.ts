/**
 * @module lvm-plan — what shrinking an LVM physical volume does to its volume group, decided before
 * anything is written: which layouts can be compacted (one PV, plain linear volumes), where each
 * volume goes, and the metadata text (a `vgcfgbackup` file) rewritten to say so.
 */

import { ImagePrepError } from "./errors.ts";

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
  throw metadataError("unbalanced braces");
}

function metadataError(why: string): ImagePrepError {
  return new ImagePrepError("tool_failed", `vgcfgbackup wrote metadata this cannot rewrite: ${why}`, {
    tool: "vgcfgbackup",
  });
}

/**
 * `[open, end)` of the section `name {…}` among the entries in `[from, to)` (the top level, or a
 * section's inside), `open` being its `{`. Values (`key = …`, lists over several lines) are stepped over.
 */
function block(text: string, name: string, from: number, to: number): [number, number] {
  let i = from;
  while (i < to) {
    const m = /^\s*([A-Za-z0-9_.+-]+)\s*(\{|=)/.exec(text.slice(i, Math.min(to, i + 512)));
    if (!m) {
      i = nextLine(text, i);
      continue;
    }
    const open = i + (m[0].length - 1);
    if (m[2] === "=") {
      // A value; lists may span lines, but hold no braces.
      const end = text[text.slice(open + 1).search(/\S/) + open + 1] === "[" ? text.indexOf("]", open) : open;
      if (end < 0) throw metadataError("an unclosed list");
      i = nextLine(text, end);
      continue;
    }
    const close = closingBrace(text, open);
    if (m[1] === name) return [open, close + 1];
    i = close + 1;
  }
  throw metadataError(`no section "${name}"`);
}

/** Where the line after the one holding `at` starts (the end of `text` after its last line). */
function nextLine(text: string, at: number): number {
  const nl = text.indexOf("\n", at);
  return nl < 0 ? text.length : nl + 1;
}

/** Replaces the one match of `re` in `text` (which must have exactly one). */
function replaceOnce(text: string, re: RegExp, value: string, what: string): string {
  const all = text.match(new RegExp(re.source, "g")) ?? [];
  if (all.length !== 1) throw metadataError(`${all.length} "${what}" entries where one was expected`);
  return text.replace(re, `$1${value}`);
}

/**
 * Rewrites a `vgcfgbackup` text so each planned volume's one segment has its new length and place
 * on the PV (`extent_count`, the `stripes` entry); `vgcfgrestore` then writes it. Only metadata.
 */
export function rewriteBackup(text: string, plan: LvmPlan, vg: string): string {
  const [vgStart, vgEnd] = block(text, vg, 0, text.length);
  const [lvsStart, lvsEnd] = block(text, "logical_volumes", vgStart + 1, vgEnd - 1);
  let out = text.slice(lvsStart, lvsEnd);
  for (const v of plan.volumes) {
    const [s, e] = block(out, v.name, 1, out.length - 1);
    let lv = out.slice(s, e);
    if (!/\bsegment_count\s*=\s*1\b/.test(lv)) throw metadataError(`volume ${v.name} is not one segment`);
    lv = replaceOnce(lv, /(\bextent_count\s*=\s*)\d+/, String(v.newExtents), "extent_count");
    lv = replaceOnce(lv, /(\bstripes\s*=\s*\[\s*"[^"]+",\s*)\d+/, String(v.toPe), "stripes");
    out = out.slice(0, s) + lv + out.slice(e);
  }
  return text.slice(0, lvsStart) + out + text.slice(lvsEnd);
}
