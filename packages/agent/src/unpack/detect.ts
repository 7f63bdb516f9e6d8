/** @module unpack/detect — what a file is, from its first bytes (names lie; magic numbers rarely do). */
import { open } from "node:fs/promises";

export type ContainerKind = "zip" | "gzip" | "xz" | "bzip2" | "zstd" | "tar";

/** The archive or compression format of `path`, or `undefined` for anything else (maybe a disk). */
export async function detectContainer(path: string): Promise<ContainerKind | undefined> {
  const fh = await open(path, "r");
  const head = Buffer.alloc(512);
  let n: number;
  try {
    ({ bytesRead: n } = await fh.read(head, 0, 512, 0));
  } finally {
    await fh.close();
  }
  const b = head.subarray(0, n);
  const starts = (...bytes: number[]) => bytes.every((v, i) => b[i] === v);
  // An empty zip starts with its end record (PK\5\6); it holds no disk but is still a zip.
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06) || starts(0x50, 0x4b, 0x07, 0x08)) {
    return "zip";
  }
  if (starts(0x1f, 0x8b)) return "gzip";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
  if (starts(0x42, 0x5a, 0x68)) return "bzip2";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (n >= 512 && b.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  if (n >= 512 && looksLikeV7Tar(b)) return "tar";
  return undefined;
}

/** Old tar headers have no magic; a valid header checksum is a strong enough sign. */
function looksLikeV7Tar(header: Buffer): boolean {
  const stored = parseInt(header.subarray(148, 156).toString("latin1").replace(/\0.*$/, "").trim(), 8);
  if (!Number.isFinite(stored) || stored === 0) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored && header[0] !== 0;
}
