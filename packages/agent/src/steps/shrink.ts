/** @module steps/shrink — the last filesystem shrunk to its data, the image cut after it, its free blocks proven zero. */
import { stat } from "node:fs/promises";
import { shrinkImage, verifyFreeBlocksZero } from "@icaas/imageprep";
import { abortError } from "../errors.ts";
import { imageprepFailure } from "./prepare.ts";
import { defineStep, perByte } from "./step.ts";

export const shrinkStep = defineStep("shrink", "Shrinking image...", perByte(0.05, 16 << 20), {
  async run(ctx, state, progress) {
    const image = state.raw!;
    let outcome: "done" | "skipped" = "done";
    try {
      if (state.shrinkWanted === false) {
        ctx.log.info("shrink is disabled for this image");
        outcome = "skipped";
      } else {
        const before = (await stat(image)).size;
        progress(0, before);
        const result = await shrinkImage(image, {
          signal: ctx.signal,
          tmpDir: ctx.workDir,
          log: (line) => ctx.log.info(line),
        });
        if (result.swap) state.metadata = { ...state.metadata, SWAP: result.swap };
        state.rawBytes = result.newSize;
        ctx.estimate("upload", result.newSize);
        if (result.skipped) ctx.log.info(`the filesystem was not shrunk: ${result.skipped}`);
        ctx.log.info(`image size ${result.oldSize} → ${result.newSize} bytes`);
        progress(before, before);
      }
      // The last look before upload, on the final bytes: nothing deleted may be readable in a free block.
      const checked = await verifyFreeBlocksZero(image, { signal: ctx.signal });
      for (const c of checked) {
        ctx.log.info(
          `free blocks of ${c.volume ? `LVM volume ${c.volume} (partition ${c.partition})` : `partition ${c.partition}`}: ${c.freeBytes} bytes, all zero (${c.bytesRead} bytes read, the rest are holes)`,
        );
      }
      return outcome;
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, "shrink");
      throw imageprepFailure(error, "shrink");
    }
  },
});
