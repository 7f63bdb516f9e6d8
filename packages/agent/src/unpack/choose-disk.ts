/** @module unpack/choose-disk — which entry of an archive is the disk to build the image from. */
import { posix } from "node:path";
import { agentErrors } from "../errors.ts";
import type { ArchiveEntry } from "./entries.ts";

const DISK = /\.(vmdk|qcow2?|img|raw|vhdx?|vdi|qed)$/i;
const NESTED = /\.(ova|tar|tgz|gz|xz|bz2|zst|zip)$/i;

/**
 * Picks the disk: the first disk an OVF descriptor references (`ovfHrefs`, in order), else the
 * Bitnami layout's `<folder>/<folder>.vmdk`, else the largest disk file; when the archive holds no
 * disk file but one nested archive (`disk.img.xz` in a tar), that one. Throws `no_disk_in_archive`.
 */
export function chooseDisk(entries: ArchiveEntry[], ovfHrefs: string[] = []): ArchiveEntry {
  const files = entries.filter((e) => e.kind === "file");
  const disks = files.filter((e) => DISK.test(e.name) && e.size > 0);
  for (const href of ovfHrefs) {
    const hit = disks.find((d) => d.name === href || posix.basename(d.name) === posix.basename(href));
    if (hit) return hit;
  }
  const bitnami = disks.find((d) => {
    const dir = posix.dirname(d.name);
    return dir !== "." && posix.basename(d.name).replace(DISK, "") === posix.basename(dir);
  });
  if (bitnami) return bitnami;
  const largest = [...disks].sort((a, b) => b.size - a.size)[0];
  if (largest) return largest;
  const nested = files.filter((e) => NESTED.test(e.name) && e.size > 0);
  if (nested.length === 1) return nested[0]!;
  const shown = files
    .slice(0, 10)
    .map((f) => f.name)
    .join(", ");
  throw agentErrors.noDiskInArchive(
    shown ? `it holds: ${shown}${files.length > 10 ? ", …" : ""}` : "it is empty",
  );
}

/** The file names an OVF descriptor references (`<File ovf:href="…">`), in document order. */
export function ovfReferences(xml: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(/<(?:\w+:)?File\b[^>]*?\b(?:\w+:)?href\s*=\s*"([^"]+)"/g)) out.push(m[1]!);
  return out;
}

export function isOvf(name: string): boolean {
  return /\.ovf$/i.test(name);
}
