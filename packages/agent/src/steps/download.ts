/** @module steps/download — the download step: the source image to the work dir, sizes announced to the tracker. */
import { join } from "node:path";
import { download } from "../download/download.ts";
import { StreamedImage } from "../download/streamed-image.ts";
import { DEFAULT_INSPECT_LIMITS } from "./inspect.ts";
import { type BuildContext, defineStep, perByte } from "./step.ts";

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

export const downloadStep = defineStep("download", "Downloading image file...", perByte(1), {
  async run(ctx, state, progress) {
    const { image, limits } = ctx.manifest;
    let announced = false;
    // A leading dot: no downloaded file is ever named so (download names drop them).
    const raw = join(ctx.workDir, ".streamed.raw");
    // The decoded disk's blocks go to Pithos while the rest still arrives, so the upload step
    // finds most of them stored; the container must exist for its block POSTs. Never held back for
    // a decode that sets the pace: the work is the upload's anyway, and done now it overlaps the
    // decode (bench/pipeline, 2 cores: a build 0.7 s faster than when it waited).
    const presend = ctx.services.imageStore.presender(image.container, raw, {
      prepare: () => ctx.services.imageStore.createContainer(image.container),
      signal: ctx.signal,
    });
    state.presend = presend;
    // Decoded while it arrives when it is a zip holding a streamOptimized VMDK; else unpacked after.
    const streamed = new StreamedImage({
      raw,
      maxVirtualBytes: DEFAULT_INSPECT_LIMITS.maxVirtualBytes,
      signal: ctx.signal,
      written: presend,
    });
    const result = await download({
      tee: streamed.push,
      onRestart: streamed.restart,
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
    }).catch(async (error) => {
      presend.stop();
      await streamed.outcome(false);
      throw error;
    });
    state.download = result;
    state.streamed = await streamed.outcome();
    // Not decoded here: the raw disk comes later, from other code; nothing to pre-send.
    if (state.streamed.kind !== "decoded") presend.stop();
    ctx.log.info(`downloaded ${result.fileName}: ${result.bytes} bytes, sha256 ${result.sha256}`);
    return "done";
  },
  async cleanup(_ctx, state) {
    // A later step failed: blocks still waiting are not worth sending.
    state.presend?.stop();
  },
});
