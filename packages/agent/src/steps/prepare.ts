/** @module steps/prepare — the system preparation of snf-image-creator, through @icaas/imageprep. */
import { ImagePrepError, prepareImage } from "@icaas/imageprep";
import { AgentError, type AgentErrorCode, abortError, type StepName } from "../errors.ts";
import type { StepDefinition } from "./step.ts";

/** imageprep's failures as agent errors: what cannot be prepared is `unsupported_image`. */
export function imageprepFailure(error: unknown, step: StepName, fallback: AgentErrorCode): AgentError {
  if (error instanceof AgentError) return error;
  if (error instanceof ImagePrepError && error.code === "unsupported_image") {
    return new AgentError({
      code: "unsupported_image",
      step,
      message: `The image cannot be prepared: ${error.message.replace(/^the image cannot be prepared: /, "")}`,
      hint: "ICaaS prepares Linux images whose root is an ext2/3/4 filesystem on an MBR or GPT disk",
      cause: error,
    });
  }
  if (error instanceof ImagePrepError && error.code === "scrub_failed") {
    return new AgentError({
      code: "scrub_failed",
      step,
      message: `The image was not uploaded: deleted files may still be readable in it: ${error.message}`,
      hint: "This is a fault of the image preparation, not of your image; report it with the build log",
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AgentError({
    code: fallback,
    step,
    message: `${step === "shrink" ? "Shrinking" : "Preparing"} the image failed: ${message}`,
    hint: "The image's filesystem may be damaged; check it with e2fsck",
    cause: error,
  });
}

export const prepareStep: StepDefinition = {
  name: "prepare",
  details: "Preparing image (locking accounts, removing secrets, first-boot tasks)...",
  weight: { perByte: 0, fixed: 64 << 20 },
  failureCode: "prepare_failed",
  async run(ctx, state) {
    const description = ctx.manifest.image.description?.trim() || undefined;
    try {
      const result = await prepareImage(state.raw!, {
        description,
        signal: ctx.signal,
        log: (line) => ctx.log.info(`prepare: ${line}`),
      });
      state.metadata = { ...result.metadata };
      state.shrinkWanted = result.shrink;
      const done = result.tasks.filter((t) => t.status === "done").map((t) => t.name);
      ctx.log.info(`preparation tasks done: ${done.join(", ") || "none"}`);
      const m = state.metadata;
      ctx.log.info(
        `image metadata: ${Object.entries(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`,
      );
      return "done";
    } catch (error) {
      if (ctx.signal.aborted) throw abortError(ctx.signal, "prepare");
      throw imageprepFailure(error, "prepare", "prepare_failed");
    }
  },
};
