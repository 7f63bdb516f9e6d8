/** @module unpack/vmdk-stream — a streamOptimized VMDK decoded in one forward pass into a sparse raw file. */
import { open, rm } from "node:fs/promises";
import { abortError, agentErrors } from "../errors.ts";
import { ByteReader } from "./byte-reader.ts";
import { GrainPool, type GrainSink } from "./grain-pool.ts";

export type { WriteObserver } from "./grain-pool.ts";

const SECTOR = 512;
/** The header area (header, descriptor, qemu's in-place tables) is read whole; more is no stream. */
const MAX_OVERHEAD_BYTES = 64 << 20;
const MAX_METADATA_BYTES = 64 << 20;
const FLAG_COMPRESSED = 1 << 16;
const FLAG_MARKERS = 1 << 17;
const MARKER = { eos: 0, gt: 1, gd: 2, footer: 3 } as const;

/**
 * The input is a VMDK this decoder does not take (another subformat, a parent, several extents…):
 * not an error of the image, a reason to leave it to qemu-img.
 */
export class NotStreamable extends Error {}

export interface StreamVmdkHeader {
  capacityBytes: number;
  grainBytes: number;
  /** Where the first marker is, in bytes from the start. */
  overheadBytes: number;
}

/**
 * Reads the sparse header and the descriptor: a streamOptimized, deflate-compressed, self-contained
 * (no parent) single-extent disk, or `NotStreamable`.
 */
export function parseStreamHeader(head: Buffer, descriptor: (offset: number, size: number) => Buffer) {
  if (head.length < SECTOR || head.toString("latin1", 0, 4) !== "KDMV") {
    throw new NotStreamable("not a sparse VMDK");
  }
  const version = head.readUInt32LE(4);
  const flags = head.readUInt32LE(8);
  const capacity = Number(head.readBigUInt64LE(12));
  const grainSectors = Number(head.readBigUInt64LE(20));
  const descriptorOffset = Number(head.readBigUInt64LE(28));
  const descriptorSize = Number(head.readBigUInt64LE(36));
  const overhead = Number(head.readBigUInt64LE(64));
  const algorithm = head.readUInt16LE(77);
  if (version < 1 || version > 3) throw new NotStreamable(`VMDK version ${version}`);
  if ((flags & (FLAG_COMPRESSED | FLAG_MARKERS)) !== (FLAG_COMPRESSED | FLAG_MARKERS) || algorithm !== 1) {
    throw new NotStreamable("not a compressed VMDK with markers");
  }
  // qemu takes grains of 1 to 2^16 sectors; real images use 128 (64 KiB).
  if (grainSectors < 8 || grainSectors > 2048 || grainSectors & (grainSectors - 1)) {
    throw new NotStreamable(`grain of ${grainSectors} sectors`);
  }
  if (!(capacity > 0) || !Number.isSafeInteger(capacity * SECTOR)) {
    throw new NotStreamable("capacity only in the footer");
  }
  if (overhead * SECTOR > MAX_OVERHEAD_BYTES || descriptorOffset < 1 || descriptorSize < 1) {
    throw new NotStreamable("no embedded descriptor");
  }
  if (descriptorOffset + descriptorSize > overhead)
    throw new NotStreamable("descriptor past the header area");
  const text = descriptor(descriptorOffset * SECTOR, descriptorSize * SECTOR)
    .toString("latin1")
    .replace(/\0.*$/s, "");
  if (!/^\s*createType\s*=\s*"streamOptimized"\s*$/m.test(text))
    throw new NotStreamable("not streamOptimized");
  // A parent is for inspect to refuse (backing_file_refused) through qemu-img, as for every format.
  const parent = /^\s*parentCID\s*=\s*(\S+)/m.exec(text)?.[1];
  if ((parent && parent.toLowerCase() !== "ffffffff") || /parentFileNameHint/.test(text)) {
    throw new NotStreamable("a parent disk");
  }
  const extents = [...text.matchAll(/^\s*(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\S+)/gm)];
  if (extents.length !== 1 || Number(extents[0]![2]) !== capacity || extents[0]![3] !== "SPARSE") {
    throw new NotStreamable("not one sparse extent of the header's capacity");
  }
  return {
    capacityBytes: capacity * SECTOR,
    grainBytes: grainSectors * SECTOR,
    overheadBytes: overhead * SECTOR,
  } satisfies StreamVmdkHeader;
}

export interface DecodeOptions extends GrainSink {
  /** Largest virtual disk taken here; bigger ones are left to qemu-img (and inspect's limit). */
  maxVirtualBytes: number;
  signal?: AbortSignal;
  /** Called once the header says the disk is one this decoder takes (before any output). */
  onHeader?: (header: StreamVmdkHeader) => void;
}

export interface DecodeResult {
  capacityBytes: number;
  /** Bytes of non-zero grains written. */
  allocated: number;
  grains: number;
}

/**
 * Decodes a streamOptimized VMDK from `source` into `output` (raw, holes for absent and all-zero
 * grains): header, descriptor, then markers in stream order — grains (zlib-deflated, each at its
 * LBA), GT/GD/footer metadata (skipped: grain markers carry the same mapping), EOS or the stream's
 * end (qemu-img writes no EOS; a cut between grains is for the container's size and CRC to catch). Throws
 * `NotStreamable` before writing anything for a VMDK it does not take; damage is a `convert_failed`
 * AgentError (truncated grain, bad marker, grain outside the disk or written twice, a grain that
 * inflates to more or less than its size), never a wrong image.
 *
 * @example
 * await decodeStreamOptimized(createReadStream("disk.vmdk"), "/work/image.raw", options);
 */
export async function decodeStreamOptimized(
  source: AsyncIterable<Uint8Array>,
  output: string,
  options: DecodeOptions,
): Promise<DecodeResult> {
  const reader = new ByteReader(source);
  const head = await reader.read(SECTOR);
  const header = parseStreamHeaderFromReader(head);
  const rest = await reader.read(header.overheadBytesToRead);
  const area = Buffer.concat([head, rest]);
  const { capacityBytes, grainBytes, overheadBytes } = parseStreamHeader(area, (offset, size) => {
    if (offset + size > area.length) throw agentErrors.vmdkDamaged("the stream ends inside its header");
    return area.subarray(offset, offset + size);
  });
  if (capacityBytes > options.maxVirtualBytes) throw new NotStreamable("larger than the decoder takes");
  options.onHeader?.({ capacityBytes, grainBytes, overheadBytes });
  const grainCount = Math.ceil(capacityBytes / grainBytes);
  const seen = new Uint8Array(Math.ceil(grainCount / 8));
  const fh = await open(output, "w");
  // Grains are inflated and written by worker threads, with this descriptor.
  const writer = new GrainPool(fh.fd, { grainBytes, capacityBytes, options });
  let grains = 0;
  try {
    for (;;) {
      if (options.signal?.aborted) throw abortError(options.signal, "download");
      const at = reader.position;
      const marker = await reader.read(12);
      // qemu-img ends its streams after the last grain, without an end-of-stream marker.
      if (marker.length === 0) break;
      if (marker.length < 12) throw agentErrors.vmdkDamaged(`the stream ends inside a marker at byte ${at}`);
      const value = Number(marker.readBigUInt64LE(0));
      const size = marker.readUInt32LE(8);
      if (size > 0) {
        if (value % (grainBytes / SECTOR) !== 0 || value * SECTOR >= capacityBytes) {
          throw agentErrors.vmdkDamaged(
            `a grain at sector ${value} lies outside the ${capacityBytes}-byte disk`,
          );
        }
        const index = value / (grainBytes / SECTOR);
        if (seen[index >> 3]! & (1 << (index & 7)))
          throw agentErrors.vmdkDamaged(`the grain at sector ${value} comes twice`);
        seen[index >> 3]! |= 1 << (index & 7);
        // A deflated grain is at most a little bigger than the grain itself.
        if (size > grainBytes + 4096)
          throw agentErrors.vmdkDamaged(`a grain marker at byte ${at} claims ${size} bytes`);
        const data = await reader.read(size);
        if (data.length < size)
          throw agentErrors.vmdkDamaged(`the stream ends inside the grain at sector ${value}`);
        await reader.skip(padding(12 + size));
        await writer.add(value * SECTOR, data);
        grains++;
        continue;
      }
      const rest = await reader.read(SECTOR - 12);
      if (rest.length < SECTOR - 12)
        throw agentErrors.vmdkDamaged(`the stream ends inside a marker at byte ${at}`);
      const type = rest.readUInt32LE(0);
      if (type === MARKER.eos) {
        if (value !== 0)
          throw agentErrors.vmdkDamaged(`an end-of-stream marker at byte ${at} has ${value} sectors`);
        break;
      }
      if (type !== MARKER.gt && type !== MARKER.gd && type !== MARKER.footer) {
        throw agentErrors.vmdkDamaged(`an unknown marker type ${type} at byte ${at}`);
      }
      if (value * SECTOR > MAX_METADATA_BYTES)
        throw agentErrors.vmdkDamaged(`a metadata marker at byte ${at} claims ${value} sectors`);
      if ((await reader.skip(value * SECTOR)) < value * SECTOR) {
        throw agentErrors.vmdkDamaged(`the stream ends inside metadata at byte ${at}`);
      }
    }
    await writer.finish();
    // What follows the end-of-stream marker (qemu pads to a grain) is read but carries nothing.
    for await (const _ of reader.rest()) {
    }
    await fh.truncate(capacityBytes);
    options.written?.finalBelow(capacityBytes);
    return { capacityBytes, allocated: writer.allocated, grains };
  } catch (error) {
    await writer.close();
    await fh.close();
    // Half an image is no image: nothing is left for a later step to take.
    await rm(output, { force: true });
    throw error;
  } finally {
    await fh.close().catch(() => {});
  }
}

/** The first sector alone: how much header area to read before the markers start. */
function parseStreamHeaderFromReader(head: Buffer): { overheadBytesToRead: number } {
  if (head.length < SECTOR || head.toString("latin1", 0, 4) !== "KDMV") {
    throw new NotStreamable("not a sparse VMDK");
  }
  const overhead = Number(head.readBigUInt64LE(64)) * SECTOR;
  if (overhead < SECTOR * 2 || overhead > MAX_OVERHEAD_BYTES) throw new NotStreamable("header area size");
  return { overheadBytesToRead: overhead - SECTOR };
}

function padding(bytes: number): number {
  return (SECTOR - (bytes % SECTOR)) % SECTOR;
}
