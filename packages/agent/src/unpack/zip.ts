/** @module unpack/zip — lists a zip (zip64 too) through yauzl and streams one member out, capped. */
import { createReadStream } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { pipeline, Readable, Transform } from "node:stream";
import * as zlib from "node:zlib";
import { createInflateRaw } from "node:zlib";
import yauzl from "yauzl";
import { AgentError, agentErrors } from "../errors.ts";
import { type ArchiveEntry, checkEntries, checkEntryName } from "./entries.ts";

export interface OpenZip {
  entries: ArchiveEntry[];
  /** Streams a member's uncompressed bytes. */
  open(entry: ArchiveEntry): Promise<Readable>;
  /** Reads a small member whole (an OVF descriptor, a link target). */
  readSmall(entry: ArchiveEntry, max?: number): Promise<Buffer>;
  close(): void;
}

const damaged = (detail: string, cause?: unknown) =>
  agentErrors.archiveDamaged("zip archive", detail, "unzip -t", cause);

/** Turns yauzl's complaints into the agent's error codes. */
export function zipError(error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(message)) {
    return agentErrors.archiveEscapes(`The archive has an entry that leads out of it (${message})`, error);
  }
  if (/unsupported compression method|encrypted/i.test(message)) {
    return agentErrors.zipFeatureUnsupported(message, error);
  }
  return damaged(message, error);
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** Opens a zip, reads its whole central directory and checks every name before anything is extracted. */
export async function openZip(path: string): Promise<OpenZip> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true },
      (e, z) => (e || !z ? reject(zipError(e)) : resolve(z)),
    ),
  );
  const raw = new Map<ArchiveEntry, yauzl.Entry>();
  const entries: ArchiveEntry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on("entry", (e: yauzl.Entry) => {
        try {
          const entry = toEntry(e);
          checkEntryName(entry.name);
          entries.push(entry);
          raw.set(entry, e);
          zip.readEntry();
        } catch (error) {
          reject(error);
        }
      });
      zip.on("end", () => resolve());
      zip.on("error", (e) => reject(zipError(e)));
      zip.readEntry();
    });
  } catch (error) {
    zip.close();
    throw error;
  }
  const open = async (entry: ArchiveEntry): Promise<Readable> => {
    const e = raw.get(entry);
    if (!e) throw new Error(`not an entry of this zip: ${entry.name}`);
    if (e.isEncrypted()) throw zipError(new Error(`entry ${entry.name} is encrypted`));
    if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
      throw zipError(new Error(`unsupported compression method ${e.compressionMethod} in ${entry.name}`));
    }
    // yauzl's own entry stream inflates in 16 KiB steps (about 3× the CPU for a disk image); the
    // entry's bytes are read here in 1 MiB slices and inflated in 256 KiB ones instead.
    const start = await dataStart(path, e);
    const stages: (Readable | Transform)[] = [
      createReadStream(path, { start, end: start + e.compressedSize - 1, highWaterMark: 1 << 20 }),
    ];
    if (e.compressedSize === 0) stages[0] = Readable.from([]);
    if (e.compressionMethod === 8) stages.push(createInflateRaw({ chunkSize: 256 << 10 }));
    stages.push(exactly(e.uncompressedSize, e.crc32, entry.name));
    return pipeline(stages, () => {}) as unknown as Readable;
  };
  const readSmall = async (entry: ArchiveEntry, max = 1 << 20) => {
    if (entry.size > max) throw damaged(`${entry.name} is unexpectedly large`);
    const chunks: Buffer[] = [];
    for await (const c of await open(entry)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  try {
    for (const entry of entries) {
      if (entry.kind === "symlink") entry.linkTarget = (await readSmall(entry, 4096)).toString("utf8");
    }
    checkEntries(entries);
  } catch (error) {
    zip.close();
    throw zipError(error);
  }
  return { entries, open, readSmall, close: () => zip.close() };
}

function toEntry(e: yauzl.Entry): ArchiveEntry {
  const name = e.fileName;
  const unixMode = (e.versionMadeBy >> 8 === 3 ? e.externalFileAttributes >>> 16 : 0) & S_IFMT;
  const kind: ArchiveEntry["kind"] =
    unixMode === S_IFLNK ? "symlink" : name.endsWith("/") || unixMode === S_IFDIR ? "directory" : "file";
  return { name, kind, size: e.uncompressedSize, compressedSize: e.compressedSize, crc32: e.crc32 };
}

/** Where an entry's data starts: after its local header, whose name and extra lengths may differ. */
async function dataStart(path: string, e: yauzl.Entry): Promise<number> {
  const fh = await openFile(path, "r");
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await fh.read(header, 0, 30, e.relativeOffsetOfLocalHeader);
    if (bytesRead < 30 || header.readUInt32LE(0) !== 0x04034b50) {
      throw damaged(`no local header for ${e.fileName}`);
    }
    const start = e.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const { size } = await fh.stat();
    if (start + e.compressedSize > size) throw damaged(`${e.fileName} runs past the end of the file`);
    return start;
  } finally {
    await fh.close();
  }
}

/** zlib.crc32 is native from Node 20.15 on; Debian 12's Node 18 lacks it (the check is then skipped). */
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * Passes bytes through and fails unless exactly `expected` of them came with the right CRC-32 (a
 * zip's sizes are claims; a stored entry has no other integrity check).
 */
function exactly(expected: number, crc: number, name: string): Transform {
  let seen = 0;
  let sum = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (crc32) sum = crc32(chunk, sum);
      if (seen > expected) done(damaged(`${name} holds more bytes than its header says`));
      else done(null, chunk);
    },
    flush(done) {
      if (seen !== expected)
        done(damaged(`${name} holds ${seen} bytes, not the ${expected} its header says`));
      else if (crc32 && sum >>> 0 !== crc >>> 0) done(damaged(`${name} fails its CRC-32 check`));
      else done(null);
    },
  });
}
