/** @module steps/shrink — the last filesystem shrunk to its data and the image cut after it (imageprep). */
import { stat } from "node:fs/promises";
import { shrinkImage } from "@icaas/imageprep";
import { abortError } from "../errors.ts";
import { imageprepFailure } from "./prepare.ts";
import type { StepDefinition } from "./step.ts";

export const shrinkStep: StepDefinition = {
  name: "shrink",
  details: "Shrinking image...",
  weight: { perByte: 0.05, fixed: 16 << 20 },
  failureCode: "shrink_failed",
  async run(ctx, state, progress) {
    if (state.shrinkWanted === false) {
      ctx.log.info("shrink is disabled for this image");
      return "skipped";
    }
    const image = state.raw!;
    const before = (await stat(image)).size;
    progress(0, before);
    try {
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
      return "done";
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, "shrink");
      throw imageprepFailure(error, "shrink", "shrink_failed");
    }
  },
};
