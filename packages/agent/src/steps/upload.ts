/** @module steps/upload — the raw image to Pithos with the hashmap protocol (holes are not read). */
import type { UploadFileResult } from "@icaas/synnefo";
import { abortError } from "../errors.ts";
import { cloudFailure } from "./cloud-errors.ts";
import { defineStep, perByte } from "./step.ts";

export const uploadStep = defineStep("upload", "Uploading image to Pithos...", perByte(0.6), {
  async run(ctx, state, progress) {
    const { container, object } = ctx.manifest.image;
    const store = ctx.services.imageStore;
    // Its last blocks are sent before hashing starts: the hashmap then finds them stored.
    const presend = await state.presend?.finish();
    if (presend?.failure) ctx.log.warn(`sending blocks during the download stopped: ${presend.failure}`);
    try {
      await store.createContainer(container);
      // Hashing reads the file once, then the missing blocks are sent: each phase is half the work.
      const result = await store.uploadFile(container, object, state.raw!, {
        contentType: "application/octet-stream",
        signal: ctx.signal,
        onProgress: (done, total, phase) =>
          progress(phase === "upload" ? Math.round(total / 2 + done / 2) : Math.round(done / 2), total),
      });
      const bytes = result.bytes;
      state.upload = { container, object, bytes, etag: result.etag };
      ctx.log.info(`uploaded ${bytes} bytes to ${container}/${object}${describe(result)}`);
      if (presend) {
        ctx.log.info(
          `pre-sent ${presend.blocksSent} blocks (${presend.bytesSent} bytes) during the download, ${presend.blocksSkipped} skipped; the upload then sent ${result.blocksSent} blocks (${result.bytesSent} bytes)`,
        );
      }
      return "done";
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, "upload");
      throw cloudFailure(error, "upload_failed", `Uploading the image to ${container}/${object} failed`);
    }
  },
  async cleanup(ctx, state) {
    // An image object nobody registered is only a cost to the user.
    if (!state.upload || state.image) return;
    await ctx.services.imageStore.deleteObject(state.upload.container, state.upload.object);
    ctx.log.info(`removed the unregistered object ${state.upload.container}/${state.upload.object}`);
  },
});

function describe(result: UploadFileResult): string {
  return ` (${result.blocksSent} of ${result.blocksTotal} blocks sent, ${result.holeBlocks} holes not read)`;
}
