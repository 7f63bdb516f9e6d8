/** @module steps/unpack — from the downloaded file to one disk file: zip, tar/ova, gz/xz/bz2/zst, nested. */
import { rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import type { StreamOutcome } from "../download/streamed-image.ts";
import { abortError, agentErrors } from "../errors.ts";
import { chooseDisk, isOvf, ovfReferences } from "../unpack/choose-disk.ts";
import { decompress } from "../unpack/decompress.ts";
import { detectContainer } from "../unpack/detect.ts";
import type { ArchiveEntry } from "../unpack/entries.ts";
import { DEFAULT_EXPANSION_LIMITS, type ExpansionLimits, expandTo } from "../unpack/expand.ts";
import { listTar, openTarMember } from "../unpack/tar.ts";
import { openZip, zipError } from "../unpack/zip.ts";
import { defineStep, perByte } from "./step.ts";

export interface UnpackOptions {
  /** The downloaded file. */
  input: string;
  /** Unpacked files go here. */
  workDir: string;
  limits?: ExpansionLimits;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  log?: (message: string) => void;
  /** Delete each archive once its content is out (the download included). Default true. */
  removeConsumed?: boolean;
}

export interface UnpackResult {
  /** The disk file to inspect (the input itself when it was no archive). */
  disk: string;
  /** What was peeled off, outermost first, e.g. `["zip: bitnami-x/bitnami-x.vmdk"]`; empty for a bare disk. */
  layers: string[];
  /** Logical size of the disk file. */
  bytes: number;
}

const MAX_LAYERS = 4;

/**
 * Peels archive and compression layers until a file that is none of them remains (the disk). Every
 * entry name of an archive is checked before anything is written; only the chosen disk is written,
 * sparse and under the expansion limits.
 *
 * @example
 * const { disk } = await unpack({ input: "/work/bitnami-x.zip", workDir: "/work", signal });
 */
export async function unpack(options: UnpackOptions): Promise<UnpackResult> {
  const limits = options.limits ?? DEFAULT_EXPANSION_LIMITS;
  const log = options.log ?? (() => {});
  const { signal } = options;
  const removeConsumed = options.removeConsumed ?? true;
  let current = options.input;
  // Every layer's expansion is measured against what was downloaded, so nested layers that each stay
  // under the ratio cannot multiply past it together.
  const downloadedBytes = (await stat(options.input)).size;
  const layers: string[] = [];
  for (let depth = 0; ; depth++) {
    if (signal?.aborted) throw abortError(signal, "unpack");
    const kind = await detectContainer(current);
    if (!kind) break;
    if (depth >= MAX_LAYERS)
      throw agentErrors.expansionRefused(`The archive is nested more than ${MAX_LAYERS} levels deep`);
    let out: string;
    if (kind === "zip" || kind === "tar") {
      const picked = kind === "zip" ? await fromZip(current) : await fromTar(current);
      log(
        `${kind} archive: ${picked.count} entries; the disk is ${picked.entry.name} (${picked.entry.size} bytes)`,
      );
      out = join(options.workDir, `unpacked-${depth}-${safeBase(picked.entry.name)}`);
      if (picked.entry.size > limits.maxBytes) {
        picked.close();
        throw agentErrors.expansionRefused(
          `The archive member ${picked.entry.name} is larger than the ${limits.maxBytes} bytes allowed`,
        );
      }
      const total = picked.entry.size;
      try {
        await expandTo(await picked.open(), out, {
          inputBytes: Math.min(downloadedBytes, picked.entry.compressedSize ?? picked.entry.size),
          limits,
          signal,
          onProgress: (done) => options.onProgress?.(done, total),
        });
      } catch (error) {
        if (signal?.aborted) throw abortError(signal, "unpack");
        throw kind === "zip" ? zipError(error) : error;
      } finally {
        picked.close();
      }
      layers.push(`${kind}: ${picked.entry.name}`);
    } else {
      const base = safeBase(posix.basename(current)).replace(/^unpacked-\d+-/, "");
      out = join(
        options.workDir,
        `unpacked-${depth}-${base.replace(/\.(gz|tgz|xz|bz2|zst|zstd)$/i, "") || "disk"}`,
      );
      if (out === current) out += ".out";
      const inputBytes = (await stat(current)).size;
      const { bytes } = await decompress(kind, current, out, {
        limits,
        inputBytes: downloadedBytes,
        signal,
        // The uncompressed size is unknown up front; show a growing estimate.
        onProgress: (done) => options.onProgress?.(done, Math.max(done, inputBytes * 3)),
      });
      log(`${kind} data: ${inputBytes} bytes became ${bytes}`);
      layers.push(kind);
    }
    if (removeConsumed) await rm(current, { force: true });
    current = out;
  }
  const bytes = (await stat(current)).size;
  options.onProgress?.(bytes, bytes);
  return { disk: current, layers, bytes };
}

interface Picked {
  entry: ArchiveEntry;
  count: number;
  open(): Promise<AsyncIterable<Uint8Array> & { destroy(error?: Error): void }>;
  close(): void;
}

/**
 * A disk decoded while it downloaded counts once the zip's central directory confirms it: every
 * name checked (as for any zip), the same disk chosen, the same size and CRC-32. A decode that
 * failed is final once the zip itself is sound (else the zip's own error is the one to give).
 * Resolves `undefined` when the file must be unpacked the usual way.
 */
export async function confirmStreamed(
  zipPath: string,
  streamed: Exclude<StreamOutcome, { kind: "declined" }>,
  log: (message: string) => void,
): Promise<UnpackResult | undefined> {
  const picked = await fromZip(zipPath);
  picked.close();
  const { entry } = picked;
  const { member } = streamed;
  // A member that is not the disk after all (an OVF pointing elsewhere) decides nothing.
  if (streamed.kind === "failed" && (!member.name || entry.name === member.name)) throw streamed.error;
  if (
    streamed.kind === "failed" ||
    entry.name !== member.name ||
    entry.size !== member.bytes ||
    entry.crc32 !== member.crc32 >>> 0
  ) {
    log(`the zip's central directory does not confirm the streamed ${member.name}; unpacking it again`);
    if (streamed.kind === "decoded") await rm(streamed.raw, { force: true });
    return undefined;
  }
  const { result } = streamed;
  log(
    `zip archive: ${picked.count} entries; the disk ${entry.name} was decoded while downloading (streamOptimized VMDK, ${result.grains} grains, ${result.allocated} bytes of data)`,
  );
  return {
    disk: streamed.raw,
    layers: [`zip: ${entry.name}`, "vmdk: streamOptimized, decoded while downloading"],
    bytes: result.capacityBytes,
  };
}

async function fromZip(path: string): Promise<Picked> {
  const zip = await openZip(path);
  try {
    const ovf = zip.entries.find((e) => e.kind === "file" && isOvf(e.name));
    const hrefs = ovf ? ovfReferences((await zip.readSmall(ovf)).toString("utf8")) : [];
    const entry = chooseDisk(zip.entries, hrefs);
    return { entry, count: zip.entries.length, open: () => zip.open(entry), close: () => zip.close() };
  } catch (error) {
    zip.close();
    throw error;
  }
}

async function fromTar(path: string): Promise<Picked> {
  const entries = await listTar(path);
  const ovf = entries.find((e) => e.kind === "file" && isOvf(e.name));
  let hrefs: string[] = [];
  if (ovf && ovf.size < 1 << 20) {
    const chunks: Buffer[] = [];
    for await (const c of openTarMember(path, ovf)) chunks.push(c as Buffer);
    hrefs = ovfReferences(Buffer.concat(chunks).toString("utf8"));
  }
  const entry = chooseDisk(entries, hrefs) as (typeof entries)[number];
  return { entry, count: entries.length, open: async () => openTarMember(path, entry), close: () => {} };
}

function safeBase(name: string): string {
  return (
    posix
      .basename(name)
      .replace(/[^A-Za-z0-9._+-]/g, "_")
      .replace(/^\.+/, "")
      .slice(-120) || "disk"
  );
}

export const unpackStep = defineStep("unpack", "Unpacking image archive...", perByte(0.5), {
  async run(ctx, state, progress) {
    const input = state.download!.path;
    const log = (line: string) => ctx.log.info(line);
    const streamed = state.streamed;
    if (streamed?.kind === "declined") log(`not decoded while downloading: ${streamed.reason}`);
    if (streamed && streamed.kind !== "declined") {
      const decoded = await confirmStreamed(input, streamed, log);
      if (decoded) {
        await rm(input, { force: true });
        state.unpack = decoded;
        progress(decoded.bytes, decoded.bytes);
        return "done";
      }
    }
    const result = await unpack({
      input,
      workDir: ctx.workDir,
      signal: ctx.signal,
      log: (line) => ctx.log.info(line),
      onProgress: progress,
    });
    state.unpack = result;
    if (result.layers.length === 0) {
      ctx.log.info("the file is no archive; taking it as the disk");
      return "skipped";
    }
    ctx.log.info(`unpacked ${result.layers.join(" → ")}: ${result.bytes} bytes`);
    return "done";
  },
});
