/** @module steps/convert — the disk to a sparse raw file with `qemu-img convert`, progress from `-p`. */
import { rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { lastLine, runCommand } from "../child.ts";
import { agentErrors } from "../errors.ts";
import type { DiskInfo } from "./disk-info.ts";
import { defineStep, perByte } from "./step.ts";

export interface ConvertOptions {
  disk: DiskInfo;
  /** Where the raw image goes. */
  output: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Delete the source once converted (disk space). Default true. */
  removeSource?: boolean;
}

/**
 * Converts to raw, sparse (qemu-img leaves zero clusters unwritten). A raw source is renamed, not
 * copied: it was written sparse by the unpack step or arrived as such.
 *
 * @example
 * const { path } = await convertToRaw({ disk: info, output: "/work/image.raw", signal });
 */
export async function convertToRaw(
  options: ConvertOptions,
): Promise<{ path: string; bytes: number; copied: boolean }> {
  const { disk, output, signal } = options;
  const total = disk.virtualSize;
  if (disk.format === "raw") {
    await rename(disk.path, output);
    // A raw image downloaded as is has its zeros on disk; punch them out (reads, never copies).
    if (disk.actualSize > disk.virtualSize / 2)
      await runCommand("fallocate", ["--dig-holes", output], { signal });
    options.onProgress?.(total, total);
    return { path: output, bytes: total, copied: false };
  }
  // A source downloaded under the output's name (a qcow2 served as `image.raw`) must not be written
  // over while qemu-img reads it: convert beside it, then take its place.
  const target = resolve(disk.path) === resolve(output) ? `${output}.converting` : output;
  let pending = "";
  // -W lets writes land out of order (faster for compressed VMDK); -p prints "(12.34/100%)".
  const args = ["convert", "-p", "-W", "-O", "raw", ...disk.openArgs, target];
  const r = await runCommand("qemu-img", args, {
    signal,
    onStdout: (text) => {
      pending += text;
      const matches = [...pending.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = matches[matches.length - 1];
      if (last) {
        options.onProgress?.(Math.round((Number(last[1]) / 100) * total), total);
        pending = pending.slice((last.index ?? 0) + last[0].length);
      }
    },
  });
  if (r.code !== 0) {
    await rm(target, { force: true });
    const said = lastLine(r.stderr).replace(/^qemu-img: /, "") || `exit ${r.code ?? r.signal}`;
    throw agentErrors.convertFailed(disk.format, said);
  }
  if (target !== output) await rename(target, output);
  else if (options.removeSource ?? true) await rm(disk.path, { force: true });
  options.onProgress?.(total, total);
  return { path: output, bytes: total, copied: true };
}

export const convertStep = defineStep("convert", "Converting disk image to raw...", perByte(0.3), {
  async run(ctx, state, progress) {
    const disk = state.disk!;
    const r = await convertToRaw({
      disk,
      output: join(ctx.workDir, "image.raw"),
      signal: ctx.signal,
      onProgress: progress,
    });
    state.raw = r.path;
    state.rawBytes = r.bytes;
    const streamed = state.streamed;
    if (streamed?.kind === "decoded" && disk.path === streamed.raw) {
      ctx.log.info(`converted vmdk to raw while downloading: ${r.bytes} bytes`);
      return "done";
    }
    if (!r.copied) {
      ctx.log.info("the disk is raw already; no conversion needed");
      return "skipped";
    }
    ctx.log.info(`converted ${disk.format} to raw: ${r.bytes} bytes`);
    return "done";
  },
});
