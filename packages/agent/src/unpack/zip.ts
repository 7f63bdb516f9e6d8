/** @module unpack/zip — lists a zip (zip64 too) through yauzl and streams one member out, capped. */
import type { Readable } from "node:stream";
import yauzl from "yauzl";
import { AgentError } from "../errors.ts";
import { type ArchiveEntry, checkEntries, checkEntryName } from "./entries.ts";

export interface OpenZip {
  entries: ArchiveEntry[];
  /** Streams a member's uncompressed bytes. */
  open(entry: ArchiveEntry): Promise<Readable>;
  /** Reads a small member whole (an OVF descriptor, a link target). */
  readSmall(entry: ArchiveEntry, max?: number): Promise<Buffer>;
  close(): void;
}

function damaged(detail: string, cause?: unknown): AgentError {
  return new AgentError({
    code: "unpack_failed",
    step: "unpack",
    message: `The zip archive is damaged or truncated: ${detail}`,
    hint: "Download the archive again or check it at the source (unzip -t)",
    cause,
  });
}

/** Turns yauzl's complaints into the agent's error codes. */
export function zipError(error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(message)) {
    return new AgentError({
      code: "unsafe_archive",
      step: "unpack",
      message: `The archive has an entry that leads out of it (${message})`,
      hint: "The archive tries to write outside its own folder; it was not unpacked. Use a clean archive",
      cause: error,
    });
  }
  if (/unsupported compression method|encrypted/i.test(message)) {
    return new AgentError({
      code: "unpack_failed",
      step: "unpack",
      message: `The zip archive uses a feature the agent cannot read: ${message}`,
      hint: "Re-create the zip with plain deflate compression and no encryption",
      cause: error,
    });
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
  const open = (entry: ArchiveEntry) => {
    const e = raw.get(entry);
    if (!e) return Promise.reject(new Error(`not an entry of this zip: ${entry.name}`));
    if (e.isEncrypted()) return Promise.reject(zipError(new Error(`entry ${entry.name} is encrypted`)));
    return new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(e, (err, stream) => (err || !stream ? reject(zipError(err)) : resolve(stream))),
    );
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
  return { name, kind, size: e.uncompressedSize, compressedSize: e.compressedSize };
}
