/** @module steps/download — the download step: the source image to the work dir, sizes announced to the tracker. */
import { download } from "../download/download.ts";
import type { BuildContext, StepDefinition } from "./step.ts";

/**
 * Until a step knows its own bytes, the tracker uses guesses derived from the download size: a
 * zipped VMDK unpacks to about its size, and the raw disk is a few times bigger but mostly holes.
 */
export function estimateFromDownload(ctx: BuildContext, bytes: number): void {
  ctx.estimate("download", bytes);
  ctx.estimate("unpack", bytes);
  ctx.estimate("convert", bytes * 3);
  ctx.estimate("shrink", bytes * 3);
  ctx.estimate("upload", bytes * 3);
}

export const downloadStep: StepDefinition = {
  name: "download",
  details: "Downloading image file...",
  weight: { perByte: 1, fixed: 0 },
  failureCode: "download_failed",
  async run(ctx, state, progress) {
    const { image, limits } = ctx.manifest;
    let announced = false;
    const result = await download({
      url: image.src,
      destDir: ctx.workDir,
      maxBytes: limits.maxDownloadBytes,
      checksum: image.checksum,
      policy: ctx.manifest.source,
      throughput: {
        minBytesPerSecond: limits.minBytesPerSecond,
        windowMs: limits.throughputWindowSeconds * 1000,
      },
      signal: ctx.signal,
      log: (line) => ctx.log.info(line),
      onProgress: (done, total) => {
        if (total !== undefined && !announced) {
          announced = true;
          estimateFromDownload(ctx, total);
          ctx.log.info(`the image file is ${total} bytes`);
        }
        progress(done, total);
      },
    });
    state.download = result;
    ctx.log.info(`downloaded ${result.fileName}: ${result.bytes} bytes, sha256 ${result.sha256}`);
    return "done";
  },
};
