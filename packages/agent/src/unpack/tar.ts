/** @module unpack/tar — a small tar/ova reader: headers (ustar, pax, GNU long names) and byte ranges. */
import { createReadStream } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { agentErrors } from "../errors.ts";
import { type ArchiveEntry, checkEntries, checkEntryName } from "./entries.ts";

export interface TarEntry extends ArchiveEntry {
  /** Where the member's data starts in the tar file. */
  dataOffset: number;
}

const damaged = (detail: string) => agentErrors.archiveDamaged("tar archive", detail, "tar -tvf");

/**
 * Lists a tar archive by reading only its headers (the data is skipped with seeks), then checks
 * every name and link. GNU sparse members are listed as `other` (they cannot be copied as a range).
 */
export async function listTar(path: string): Promise<TarEntry[]> {
  const fh = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const entries: TarEntry[] = [];
    let offset = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    const header = Buffer.alloc(512);
    for (;;) {
      if (offset + 512 > fileSize) {
        // A tar ends with zero blocks, but many writers stop right after the last member.
        if (offset === fileSize && entries.length > 0) break;
        throw damaged(`it ends inside a header at byte ${offset}`);
      }
      await readExactly(fh, header, offset);
      if (header.every((b) => b === 0)) break;
      if (!checksumOk(header)) throw damaged(`bad header checksum at byte ${offset}`);
      const type = String.fromCharCode(header[156] || 0x30);
      const extended = type === "L" || type === "K" || type === "x" || type === "g";
      // A pax `size` overrides the header's (which may be 0 for members too big for it).
      const size =
        !extended && pax.size !== undefined ? Number(pax.size) : parseNumber(header.subarray(124, 136));
      const dataOffset = offset + 512;
      if (!Number.isSafeInteger(size) || dataOffset + size > fileSize) {
        throw damaged(`member data runs past the end of the file at byte ${offset}`);
      }
      const next = dataOffset + Math.ceil(size / 512) * 512;
      if (extended) {
        if (size > 1 << 20) throw damaged(`an extended header of ${size} bytes`);
        const body = Buffer.alloc(size);
        await readExactly(fh, body, dataOffset);
        if (type === "L") longName = cString(body);
        else if (type === "K") longLink = cString(body);
        else if (type === "x") pax = parsePax(body);
        offset = next;
        continue;
      }
      const magic = header.subarray(257, 263).toString("latin1");
      const prefix = magic.startsWith("ustar") ? cString(header.subarray(345, 500)) : "";
      const baseName = cString(header.subarray(0, 100));
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
      const linkTarget = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
      const kind: ArchiveEntry["kind"] =
        type === "0" || type === "7"
          ? "file"
          : type === "5"
            ? "directory"
            : type === "2"
              ? "symlink"
              : type === "1"
                ? "hardlink"
                : "other";
      const entry: TarEntry = { name: name.replace(/^\.\//, ""), kind, size, dataOffset };
      if (kind === "symlink" || kind === "hardlink") entry.linkTarget = linkTarget;
      checkEntryName(entry.name || ".");
      entries.push(entry);
      longName = undefined;
      longLink = undefined;
      pax = {};
      offset = next;
    }
    checkEntries(entries);
    return entries;
  } finally {
    await fh.close();
  }
}

/** Streams one member's bytes out of the tar file. */
export function openTarMember(path: string, entry: TarEntry): Readable {
  if (entry.size === 0) return createReadStream(path, { start: 1, end: 0 });
  return createReadStream(path, {
    start: entry.dataOffset,
    end: entry.dataOffset + entry.size - 1,
    highWaterMark: 1 << 20,
  });
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw damaged(`it ends early at byte ${position + done}`);
    done += bytesRead;
  }
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8");
}

/** Octal, or GNU base-256 (high bit set) for members of 8 GiB and more. */
function parseNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = cString(field).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw damaged(`a bad size field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = parseInt(cString(header.subarray(148, 156)).trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(body.subarray(at, space).toString("latin1"));
    if (!(len > 0)) break;
    const record = body.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}
