/** @module unpack/zip-stream — a zip read front to back from its local headers, as its bytes arrive. */
import { pipeline, Readable } from "node:stream";
import * as zlib from "node:zlib";
import { ByteReader } from "./byte-reader.ts";
import { checkEntryName } from "./entries.ts";
import { NotStreamable } from "./vmdk-stream.ts";

const LOCAL_HEADER = 0x04034b50;
const FLAG_ENCRYPTED = 1;
const FLAG_DESCRIPTOR = 1 << 3;
const ZIP64_EXTRA = 0x0001;
const crc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** What was streamed out of the member: for the central directory to confirm at the end. */
export interface StreamedMember {
  name: string;
  /** Uncompressed bytes and their CRC-32, counted as they passed. */
  bytes: number;
  crc32: number;
}

/**
 * Yields the uncompressed bytes of the first member `wanted` accepts, reading local headers in
 * order and skipping the members before it. Every name seen is checked (unsafe_archive) before its
 * data. Data descriptors (sizes after the data) are fine for a deflated member — the deflate stream
 * ends itself — and so are zip64 sizes; what cannot be streamed (a stored member of unknown size
 * before it, encryption, other methods, no local header first) throws `NotStreamable`. The member's
 * size and CRC are *not* checked here: `member` holds what passed, for the central directory.
 */
export async function* zipMemberStream(
  source: AsyncIterable<Uint8Array>,
  wanted: (name: string) => boolean,
  member: StreamedMember,
): AsyncGenerator<Buffer> {
  if (!crc32) throw new NotStreamable("no zlib.crc32 in this Node");
  const reader = new ByteReader(source);
  try {
    for (;;) {
      const head = await reader.read(30);
      if (head.length < 30 || head.readUInt32LE(0) !== LOCAL_HEADER) {
        throw new NotStreamable("no (further) local header where one should be");
      }
      const flags = head.readUInt16LE(6);
      const method = head.readUInt16LE(8);
      let compressed = head.readUInt32LE(18);
      const nameBytes = await reader.read(head.readUInt16LE(26));
      const extra = await reader.read(head.readUInt16LE(28));
      // Names are UTF-8 (flag 11) or CP437; the checks look at ASCII only ('/', '..', controls).
      const name = nameBytes.toString(flags & (1 << 11) ? "utf8" : "latin1");
      checkEntryName(name);
      if (compressed === 0xffffffff) compressed = zip64Compressed(extra);
      const sizeKnown = !(flags & FLAG_DESCRIPTOR);
      if (flags & FLAG_ENCRYPTED) throw new NotStreamable("encrypted member");
      if (!wanted(name)) {
        if (!sizeKnown) throw new NotStreamable("a member of unknown size before the disk");
        if ((await reader.skip(compressed)) < compressed) throw new NotStreamable("ends inside a member");
        continue;
      }
      member.name = name;
      let data: AsyncIterable<Buffer>;
      if (method === 8) {
        const input = sizeKnown ? limited(reader, compressed) : reader.rest();
        // 256 KiB output slices (yauzl's 16 KiB ones cost about 3× the CPU on a disk image).
        data = pipeline(
          Readable.from(input, { highWaterMark: 1 }),
          zlib.createInflateRaw({ chunkSize: 256 << 10 }),
          () => {},
        );
      } else if (method === 0 && sizeKnown) {
        data = limited(reader, compressed);
      } else {
        throw new NotStreamable(`compression method ${method}`);
      }
      for await (const chunk of data) {
        member.bytes += chunk.length;
        member.crc32 = crc32(chunk, member.crc32);
        yield chunk;
      }
      return;
    }
  } finally {
    await reader.close();
  }
}

async function* limited(reader: ByteReader, bytes: number): AsyncGenerator<Buffer> {
  let left = bytes;
  while (left > 0) {
    const chunk = await reader.readSome(left);
    if (chunk.length === 0) return;
    left -= chunk.length;
    yield chunk;
  }
}

/** A local header's zip64 extra field holds the uncompressed then the compressed size. */
function zip64Compressed(extra: Buffer): number {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA && size >= 16) return Number(extra.readBigUInt64LE(at + 4 + 8));
    at += 4 + size;
  }
  throw new NotStreamable("zip64 sizes missing from a local header");
}
