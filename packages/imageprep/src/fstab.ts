/** @module fstab — parses /etc/fstab lines and tells which partition of the disk a device spec names. */

export interface FstabEntry {
  spec: string;
  file: string;
  vfstype: string;
  options: string[];
}

/** The entries of an fstab (comments and blank lines skipped, octal escapes like `\040` decoded). */
export function parseFstab(text: string): FstabEntry[] {
  const out: FstabEntry[] = [];
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  for (const line of text.split("\n")) {
    const content = (line.split("#")[0] ?? "").trim();
    if (!content) continue;
    const [spec, file, vfstype, options] = content.split(/\s+/);
    if (!spec || !file || !vfstype) continue;
    out.push({
      spec: decode(spec),
      file: decode(file),
      vfstype,
      options: (options ?? "defaults").split(","),
    });
  }
  return out;
}

/** The value of `name=` in an option list (`subvol=@`), or undefined. */
export function optionValue(options: string[], name: string): string | undefined {
  const o = options.find((x) => x.startsWith(`${name}=`));
  return o === undefined ? undefined : o.slice(name.length + 1);
}

/** What a partition is known by: its number, filesystem UUID and label, GPT partition GUID. */
export interface DeviceIds {
  number: number;
  uuid?: string;
  label?: string;
  partuuid?: string;
  /** An LVM logical volume: `/dev/mapper/<vg>-<lv>` (dashes doubled) and `/dev/<vg>/<lv>`. */
  lvm?: { vg: string; lv: string } | undefined;
}

/**
 * Whether the fstab device `spec` names this partition: `UUID=`, `LABEL=`, `PARTUUID=`, their
 * `/dev/disk/by-*` links, or `/dev/[hsv]daN` of the first disk.
 */
export function specNames(spec: string, p: DeviceIds): boolean {
  const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  const m =
    /^(UUID|LABEL|PARTUUID)=(.*)$/.exec(spec) ?? /^\/dev\/disk\/by-(uuid|label|partuuid)\/(.*)$/.exec(spec);
  if (m) {
    const kind = (m[1] as string).toUpperCase();
    const value = (m[2] as string).replace(/^"(.*)"$/, "$1");
    if (kind === "UUID") return eq(p.uuid, value);
    if (kind === "LABEL") return p.label !== undefined && p.label === value;
    return eq(p.partuuid, value);
  }
  if (p.lvm) {
    const dm = (s: string) => s.replace(/-/g, "--");
    if (spec === `/dev/mapper/${dm(p.lvm.vg)}-${dm(p.lvm.lv)}` || spec === `/dev/${p.lvm.vg}/${p.lvm.lv}`)
      return true;
  }
  const dev = /^\/dev\/[hsv]da(\d+)$/.exec(spec);
  return dev !== null && Number(dev[1]) === p.number;
}
