/** @module unpack/entries — archive entries as one shape, and the checks that keep them inside the work dir. */
import { posix } from "node:path";
import { agentErrors } from "../errors.ts";

export interface ArchiveEntry {
  /** The name as stored, `/`-separated. */
  name: string;
  kind: "file" | "directory" | "symlink" | "hardlink" | "other";
  /** Uncompressed size. */
  size: number;
  /** Stored (compressed) size, for zip. */
  compressedSize?: number;
  /** CRC-32 of the uncompressed bytes, for zip. */
  crc32?: number;
  /** Target of a link. */
  linkTarget?: string;
}

const unsafe = (message: string) => agentErrors.archiveEscapes(message);

/** Refuses absolute names, `..` components, drive letters, NUL and other control characters. */
export function checkEntryName(name: string): void {
  if (/[\0-\x1f]/.test(name)) throw unsafe(`The archive has an entry with control characters in its name`);
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.includes("\\")) {
    throw unsafe(`The archive has an entry with an absolute path: ${printable(name)}`);
  }
  if (name.split("/").includes("..")) {
    throw unsafe(`The archive has an entry that leads out of it: ${printable(name)}`);
  }
}

/** Refuses links whose target is absolute or leads outside the archive's root. */
export function checkLink(entry: ArchiveEntry): void {
  if (entry.kind !== "symlink" && entry.kind !== "hardlink") return;
  const target = entry.linkTarget ?? "";
  if (target.startsWith("/") || /^[A-Za-z]:/.test(target)) {
    throw unsafe(
      `The archive has a link to an absolute path: ${printable(entry.name)} -> ${printable(target)}`,
    );
  }
  // Symlinks resolve against their own folder, hard links against the archive root.
  const base = entry.kind === "symlink" ? posix.dirname(entry.name) : ".";
  const resolved = posix.normalize(posix.join(base, target));
  if (resolved === ".." || resolved.startsWith("../")) {
    throw unsafe(
      `The archive has a link leading out of it: ${printable(entry.name)} -> ${printable(target)}`,
    );
  }
}

/** Checks every entry: names first, then links. */
export function checkEntries(entries: ArchiveEntry[]): void {
  for (const e of entries) {
    checkEntryName(e.name);
    checkLink(e);
  }
}

function printable(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
